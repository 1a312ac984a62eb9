import { ConflictError } from '../domain/app.errors.js';
import { slugify, Tenant } from '../domain/tenant.entity.js';
import { User } from '../domain/user.entity.js';
import { email as checkEmail, text } from '../domain/validate.js';
import type { RequestOrigin } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { deliver, emailLinkMessage, issueEmailLink } from './email-links.js';
import { checkPassword } from './password-policy.js';
import { type AuthSession, signIn } from './session.js';
import { stamp } from './stamp.js';

export interface RegisterInput {
  tenantName: string;
  email: string;
  password: string;
  fullName?: string | null;
}

/**
 * Creates a tenant with its first user as owner, and signs that user in. The address is not
 * verified yet: a verification link is mailed (after the commit, not awaited).
 */
export class Register {
  constructor(
    private readonly deps: Pick<
      CoreDeps,
      | 'uow'
      | 'clock'
      | 'ids'
      | 'passwords'
      | 'commonPasswords'
      | 'tokens'
      | 'settings'
      | 'secrets'
      | 'mailer'
      | 'logger'
    >,
  ) {}

  async execute(input: RegisterInput, origin: RequestOrigin = {}): Promise<AuthSession & { tenant: Tenant }> {
    const tenantName = text('tenantName', input.tenantName, { max: 100 });
    const email = checkEmail('email', input.email);
    const password = checkPassword(this.deps, input.password);
    const passwordHash = await this.deps.passwords.hash(password);

    // Two registrations may pick the same free slug at once; the one that loses takes a suffix.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { link, ...registered } = await this.register(
          tenantName,
          email,
          passwordHash,
          input.fullName ?? null,
          attempt > 1,
          origin,
        );
        deliver(this.deps, emailLinkMessage(this.deps.settings, registered.user, 'verify_email', link), {
          tenant_id: registered.tenant.id,
          user_id: registered.user.id,
        });
        return registered;
      } catch (error) {
        const slugTaken =
          error instanceof ConflictError && (error.details as { field?: string } | null)?.field === 'slug';
        if (!slugTaken || attempt >= 3) throw error;
      }
    }
  }

  private register(
    tenantName: string,
    email: string,
    passwordHash: string,
    fullName: string | null,
    suffixed: boolean,
    origin: RequestOrigin,
  ): Promise<AuthSession & { tenant: Tenant; link: string }> {
    // Platform-wide: emails and slugs are unique across tenants. The new tenant's rows are written
    // in the same transaction as the checks.
    return this.deps.uow.platform(async (platform) => {
      if ((await platform.findUserByEmail(email)) !== null) {
        throw new ConflictError('A user with this email already exists', { field: 'email' });
      }
      const base = slugify(tenantName);
      const suffix = () => `${base.slice(0, 50)}-${this.deps.ids.next().slice(-8)}`;
      let slug = suffixed ? suffix() : base;
      // The suffix is the tail of a fresh id: random with UUID v4, distinct with sequential ids.
      while (await platform.tenantSlugExists(slug)) slug = suffix();
      const tenant = Tenant.create(stamp(this.deps), { name: tenantName, slug });
      const repos = platform.inTenant(tenant.id);
      await repos.tenants.add(tenant);
      const user = User.create(stamp(this.deps), {
        tenantId: tenant.id,
        email,
        role: 'owner',
        fullName,
        passwordHash,
      });
      const link = issueEmailLink(this.deps, user, 'verify_email');
      await repos.users.add(user);
      const session = await signIn(this.deps, repos, user, origin.ip ?? null, {
        action: 'auth.register',
        target: { type: 'tenant', id: tenant.id },
        summary: { method: 'password' },
      });
      return { ...session, tenant, link };
    });
  }
}
