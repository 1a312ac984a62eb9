import { AuthenticationError, ConflictError, ValidationError } from '../domain/app.errors.js';
import type { Principal } from '../domain/role.js';
import type { EmailLinkPurpose, User } from '../domain/user.entity.js';
import { email as checkEmail } from '../domain/validate.js';
import type { Repositories } from '../ports/repository.port.js';
import { type RequestOrigin, recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { deliver, emailLinkMessage, issueEmailLink, parseLinkToken } from './email-links.js';
import { checkPassword, PASSWORD_MAX_LENGTH } from './password-policy.js';
import { retryOnConflict } from './retry.js';
import { type AuthSession, endEverySession, signIn } from './session.js';

const invalidLink = () => ValidationError.field('token', 'is invalid, used or expired');

type MailDeps = Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'secrets' | 'mailer' | 'logger' | 'settings'>;

/** Where a link token points, and the digest its pending link must have; 422 when it is no token. */
interface PresentedLink {
  tenantId: string;
  userId: string;
  digest: string;
}

function presentedLink(deps: Pick<CoreDeps, 'secrets'>, token: unknown): PresentedLink {
  const parsed = parseLinkToken(token);
  if (parsed === null) throw invalidLink();
  return { tenantId: parsed.tenantId, userId: parsed.userId, digest: deps.secrets.digest(parsed.secret) };
}

/**
 * Uses the pending link of the user the token names: in the user's tenant, re-read on a lost
 * race, so of two requests with one token exactly one succeeds and the other finds it used.
 * `apply` writes what the link grants, in the same unit.
 */
async function useLink<T>(
  deps: Pick<CoreDeps, 'uow' | 'clock'>,
  link: PresentedLink,
  purposes: readonly EmailLinkPurpose[],
  apply: (user: User, purpose: EmailLinkPurpose, repos: Repositories) => Promise<T>,
): Promise<T> {
  const { tenantId, userId, digest } = link;
  return retryOnConflict(() =>
    deps.uow.run(tenantId, async (repos) => {
      const user = await repos.users.find(userId);
      const now = deps.clock.now();
      const purpose = user?.consumeEmailLink(purposes, digest, now) ?? null;
      if (user === null || purpose === null || !user.isActive) throw invalidLink();
      const result = await apply(user, purpose, repos);
      await repos.users.update(user);
      return result;
    }),
  );
}

/** Follows a verification link: the user's address is proven. */
export class VerifyEmail {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'secrets'>) {}

  async execute(token: unknown, origin: RequestOrigin = {}): Promise<User> {
    return useLink(this.deps, presentedLink(this.deps, token), ['verify_email'], async (user, _purpose, repos) => {
      user.markEmailVerified(this.deps.clock.now());
      await recordAudit(
        this.deps,
        repos,
        { type: 'user', id: user.id, sessionId: null, ip: origin.ip ?? null },
        { action: 'auth.email_verified', target: { type: 'user', id: user.id } },
      );
      return user;
    });
  }
}

/** Mails the signed-in user a fresh verification link (the earlier one stops working). */
export class ResendVerification {
  constructor(private readonly deps: MailDeps) {}

  async execute(actor: Principal): Promise<void> {
    const { user, link } = await retryOnConflict(() =>
      this.deps.uow.run(actor.tenantId, async (repos) => {
        const current = await repos.users.get(actor.userId);
        if (current.emailVerifiedAt !== null) throw new ConflictError('This email address is already verified');
        const issued = issueEmailLink(this.deps, current, 'verify_email');
        await repos.users.update(current);
        return { user: current, link: issued };
      }),
    );
    deliver(this.deps, emailLinkMessage(this.deps.settings, user, 'verify_email', link), {
      tenant_id: user.tenantId,
      user_id: user.id,
    });
  }
}

/**
 * Asks for a password-reset link. The answer is the same whatever the email (unknown,
 * unverified, deactivated): only a verified address of an active user gets a reset link, so a
 * pre-made account with someone else's address cannot be taken over through it. An invited user
 * who never set a password gets a fresh invitation instead.
 */
export class ForgotPassword {
  constructor(private readonly deps: MailDeps) {}

  async execute(input: { email: unknown }, origin: RequestOrigin = {}): Promise<void> {
    const address = checkEmail('email', input.email);
    const found = await this.deps.uow.platform((platform) => platform.findUserByEmail(address));
    if (found === null || !found.isActive) return;
    const invited = found.passwordHash === null && found.emailVerifiedAt === null;
    if (found.emailVerifiedAt === null && !invited) return;
    const purpose: EmailLinkPurpose = invited ? 'invitation' : 'reset_password';
    const { user, link } = await retryOnConflict(() =>
      this.deps.uow.run(found.tenantId, async (repos) => {
        const current = await repos.users.get(found.id);
        const issued = issueEmailLink(this.deps, current, purpose);
        await repos.users.update(current);
        await recordAudit(
          this.deps,
          repos,
          { type: 'user', id: null, sessionId: null, ip: origin.ip ?? null },
          { action: 'auth.password_reset_requested', target: { type: 'user', id: current.id } },
        );
        return { user: current, link: issued };
      }),
    );
    deliver(this.deps, emailLinkMessage(this.deps.settings, user, purpose, link), {
      tenant_id: user.tenantId,
      user_id: user.id,
    });
  }
}

/**
 * Sets a password through a reset or invitation link, and ends every session of the user (their
 * access tokens stop at once, their refresh tokens are revoked). The link also proves the
 * address. The new password is checked and hashed only once the link is known to be pending.
 */
export class ResetPassword {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'secrets' | 'passwords' | 'commonPasswords' | 'settings'
    >,
  ) {}

  async execute(input: { token: unknown; password: unknown }, origin: RequestOrigin = {}): Promise<User> {
    const link = presentedLink(this.deps, input.token);
    const purposes = ['reset_password', 'invitation'] as const;
    const pending = await this.deps.uow.run(link.tenantId, (repos) => repos.users.find(link.userId));
    if (
      pending === null ||
      !pending.isActive ||
      pending.pendingEmailLink(purposes, link.digest, this.deps.clock.now()) === null
    ) {
      throw invalidLink();
    }
    const password = checkPassword(this.deps, input.password);
    const hash = await this.deps.passwords.hash(password);
    return useLink(this.deps, link, purposes, async (user, purpose, repos) => {
      const now = this.deps.clock.now();
      user.setPasswordHash(hash, now);
      user.markEmailVerified(now);
      await endEverySession(repos, user, now);
      await recordAudit(
        this.deps,
        repos,
        { type: 'user', id: user.id, sessionId: null, ip: origin.ip ?? null },
        {
          action: purpose === 'invitation' ? 'auth.invitation_accepted' : 'auth.password_reset',
          target: { type: 'user', id: user.id },
        },
      );
      return user;
    });
  }
}

/**
 * The signed-in user changes their password: the current one is required, every session of the
 * user ends (this one too), and a fresh session is opened and returned.
 */
export class ChangePassword {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      'uow' | 'clock' | 'ids' | 'passwords' | 'commonPasswords' | 'tokens' | 'settings'
    >,
  ) {}

  async execute(
    actor: Principal,
    input: { currentPassword: unknown; newPassword: unknown },
    origin: RequestOrigin = {},
  ): Promise<AuthSession> {
    if (typeof input.currentPassword !== 'string' || input.currentPassword.length > PASSWORD_MAX_LENGTH) {
      throw ValidationError.field('current_password', `must be a string of at most ${PASSWORD_MAX_LENGTH} characters`);
    }
    const stored = await this.deps.uow.run(actor.tenantId, (repos) => repos.users.get(actor.userId));
    if (stored.passwordHash === null) {
      throw new ConflictError('This account has no password yet; set one through POST /auth/forgot-password');
    }
    if (!(await this.deps.passwords.verify(stored.passwordHash, input.currentPassword))) {
      throw ValidationError.field('current_password', 'is not the current password');
    }
    const password = checkPassword(this.deps, input.newPassword, 'new_password');
    const hash = await this.deps.passwords.hash(password);
    return retryOnConflict(() =>
      this.deps.uow.run(actor.tenantId, async (repos) => {
        const user = await repos.users.get(actor.userId);
        if (!user.isActive) throw new AuthenticationError('This account no longer exists or is deactivated');
        // A concurrent change won: this one was checked against a password that is gone.
        if (user.passwordHash !== stored.passwordHash) throw new ConflictError('The password was changed meanwhile');
        const now = this.deps.clock.now();
        user.setPasswordHash(hash, now);
        await endEverySession(repos, user, now);
        await repos.users.update(user);
        return signIn(this.deps, repos, user, origin.ip ?? actor.ip ?? null, {
          action: 'auth.password_change',
          target: { type: 'user', id: user.id },
        });
      }),
    );
  }
}
