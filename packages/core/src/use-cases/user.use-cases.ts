import { AuthorizationError, ConflictError } from '../domain/app.errors.js';
import { changedFields } from '../domain/audit-redaction.js';
import { type Principal, ROLES, type Role, requireRole } from '../domain/role.js';
import { User } from '../domain/user.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { deliver, emailLinkMessage, issueEmailLink } from './email-links.js';
import { checkPassword } from './password-policy.js';
import { endEverySession } from './session.js';
import { stamp } from './stamp.js';

export class GetMe {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  /**
   * The actor's user. `authenticated`, the user `Authenticate` read for this request, is answered
   * as it is (no second read); without it the user is read.
   */
  async execute(actor: Principal, authenticated?: User): Promise<User> {
    if (authenticated !== undefined && authenticated.id === actor.userId && authenticated.tenantId === actor.tenantId) {
      return authenticated;
    }
    return this.deps.uow.run(actor.tenantId, (repos) => repos.users.get(actor.userId));
  }
}

export class ListUsers {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, query?: ListQueryInput): Promise<Page<User>> {
    requireRole(actor, 'admin');
    const spec = parseListQuery('user', query);
    return this.deps.uow.run(actor.tenantId, (repos) => repos.users.list(spec));
  }
}

/** Any member of the tenant may read one user (to show a name next to a build, say). */
export class GetUser {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, userId: string): Promise<User> {
    return this.deps.uow.run(actor.tenantId, (repos) => repos.users.get(userId));
  }
}

function assertMayGrant(actor: Principal, role: Role): void {
  if (role === 'owner' && actor.role !== 'owner') {
    throw new AuthorizationError('Only an owner can make someone an owner');
  }
}

/** Counts active owners, and writes the tenant row so concurrent owner changes conflict. */
async function activeOwners(repos: Repositories, now: Date): Promise<number> {
  const tenant = await repos.tenants.get(repos.tenantId);
  tenant.lockOwnership(now);
  await repos.tenants.update(tenant);
  return repos.users.count({ role: ['owner'], isActive: [true] });
}

export interface CreateUserInput {
  email: string;
  /** Omitted: the user is invited, and sets their own password through an emailed link. */
  password?: string | null;
  role: Role;
  fullName?: string | null;
}

const emailTaken = () => new ConflictError('A user with this email already exists', { field: 'email' });

/**
 * An admin adds a user to the tenant; only an owner adds an owner. With a password, the user
 * can sign in at once and is mailed a verification link; without one, the user is invited:
 * mailed a single-use link to set their own password (which also verifies the address). A
 * taken email is refused before any password is hashed.
 */
export class CreateUser {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'passwords' | 'commonPasswords' | 'settings' | 'secrets' | 'mailer' | 'logger'
    >,
  ) {}

  async execute(actor: Principal, input: CreateUserInput): Promise<User> {
    requireRole(actor, 'admin');
    const user = User.create(stamp(this.deps), {
      tenantId: actor.tenantId,
      email: input.email,
      role: input.role,
      fullName: input.fullName ?? null,
    });
    assertMayGrant(actor, user.role);
    const invited = input.password === undefined || input.password === null;
    const password = invited ? null : checkPassword(this.deps, input.password);
    // Platform-wide: emails are unique across tenants, so the check looks at every tenant. It runs
    // before the hashing (a taken email costs no CPU) and again in the writing transaction.
    if ((await this.deps.uow.platform((platform) => platform.findUserByEmail(user.email))) !== null) {
      throw emailTaken();
    }
    if (password !== null) user.passwordHash = await this.deps.passwords.hash(password);
    const purpose = invited ? 'invitation' : 'verify_email';
    const link = issueEmailLink(this.deps, user, purpose);
    const created = await this.deps.uow.platform(async (platform) => {
      if ((await platform.findUserByEmail(user.email)) !== null) throw emailTaken();
      const repos = platform.inTenant(actor.tenantId);
      await repos.users.add(user);
      await recordAudit(this.deps, repos, actor, {
        action: 'user.create',
        target: { type: 'user', id: user.id },
        summary: { role: user.role, invited },
      });
      return user;
    });
    deliver(this.deps, emailLinkMessage(this.deps.settings, created, purpose, link), {
      tenant_id: created.tenantId,
      user_id: created.id,
    });
    return created;
  }
}

export interface UpdateUserInput {
  fullName?: string | null;
  role?: Role;
  isActive?: boolean;
}

/**
 * An admin changes a user. Only an owner changes an owner or grants the owner role; nobody
 * demotes or deactivates the last active owner. A deactivation or a lower role ends every
 * session of the user (`endEverySession`): reactivating them later brings no old token back.
 */
export class UpdateUser {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, userId: string, changes: UpdateUserInput): Promise<User> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const user = await repos.users.get(userId);
      if (user.role === 'owner' && actor.role !== 'owner') {
        throw new AuthorizationError('Only an owner can change an owner');
      }
      if (changes.role !== undefined) assertMayGrant(actor, changes.role);
      const wasActiveOwner = user.role === 'owner' && user.isActive;
      const before = { role: user.role, isActive: user.isActive, fullName: user.fullName };
      const now = this.deps.clock.now();
      user.update(changes, now);
      if (wasActiveOwner && (user.role !== 'owner' || !user.isActive) && (await activeOwners(repos, now)) <= 1) {
        throw new ConflictError('The tenant must keep at least one active owner');
      }
      const demoted = ROLES.indexOf(user.role) < ROLES.indexOf(before.role);
      if (demoted || (before.isActive && !user.isActive)) await endEverySession(repos, user, now);
      await repos.users.update(user);
      const action =
        before.isActive && !user.isActive
          ? 'user.deactivate'
          : !before.isActive && user.isActive
            ? 'user.activate'
            : user.role !== before.role
              ? 'user.role_change'
              : 'user.update';
      await recordAudit(this.deps, repos, actor, {
        action,
        target: { type: 'user', id: user.id },
        summary: {
          changed: changedFields(before, user, ['fullName', 'role', 'isActive']),
          ...(user.role === before.role ? {} : { role_from: before.role, role_to: user.role }),
        },
      });
      return user;
    });
  }
}

/** An admin removes a user; only an owner removes an owner, and never the last active one. */
export class DeleteUser {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, userId: string): Promise<void> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const user = await repos.users.get(userId);
      if (user.role === 'owner') {
        if (actor.role !== 'owner') throw new AuthorizationError('Only an owner can delete an owner');
        if (user.isActive && (await activeOwners(repos, this.deps.clock.now())) <= 1) {
          throw new ConflictError('The tenant must keep at least one active owner');
        }
      }
      await repos.users.remove(user.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'user.delete',
        target: { type: 'user', id: user.id },
        summary: { role: user.role },
      });
    });
  }
}
