import { AuthenticationError, ValidationError } from '../domain/app.errors.js';
import { type RequestOrigin, recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { PASSWORD_MAX_LENGTH } from './password-policy.js';
import { retryOnConflict } from './retry.js';
import { type AuthSession, signIn } from './session.js';

const INVALID_CREDENTIALS = 'Invalid email or password';

/**
 * Signs in with email and password. An unknown email, a wrong password and a deactivated user
 * get the same answer after the same hashing work, so the answer tells nothing about accounts.
 */
export class Login {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'passwords' | 'tokens' | 'settings'>) {}

  /**
   * A failure for an email that belongs to a user is recorded in that user's tenant
   * (`auth.login_failed`); a failure for an unknown email is recorded nowhere (it has no tenant).
   */
  async execute(input: { email: string; password: string }, origin: RequestOrigin = {}): Promise<AuthSession> {
    if (typeof input.email !== 'string' || input.email.length > 254) {
      throw ValidationError.field('email', 'must be an email address');
    }
    if (typeof input.password !== 'string' || input.password.length > PASSWORD_MAX_LENGTH) {
      throw ValidationError.field('password', `must be a string of at most ${PASSWORD_MAX_LENGTH} characters`);
    }
    const user = await this.deps.uow.platform((platform) => platform.findUserByEmail(input.email));
    if (user === null || user.passwordHash === null) {
      this.dummyHash ??= this.deps.passwords.hash('not-a-real-password-only-equalises-timing');
      await this.deps.passwords.verify(await this.dummyHash, input.password);
      if (user !== null) await this.recordFailure(user.tenantId, user.id, origin, 'no_password');
      throw new AuthenticationError(INVALID_CREDENTIALS);
    }
    const valid = await this.deps.passwords.verify(user.passwordHash, input.password);
    if (!valid || !user.isActive) {
      await this.recordFailure(user.tenantId, user.id, origin, valid ? 'deactivated' : 'wrong_password');
      throw new AuthenticationError(INVALID_CREDENTIALS);
    }
    // Parallel sign-ins of one user all write its last_login_at: the later ones run again.
    return retryOnConflict(() =>
      this.deps.uow.run(user.tenantId, async (repos) => {
        const current = await repos.users.get(user.id);
        if (!current.isActive) throw new AuthenticationError(INVALID_CREDENTIALS);
        current.recordLogin(this.deps.clock.now());
        await repos.users.update(current);
        return signIn(this.deps, repos, current, origin.ip ?? null, {
          action: 'auth.login',
          target: { type: 'user', id: current.id },
          summary: { method: 'password' },
        });
      }),
    );
  }

  /**
   * In the tenant of the user the email belongs to, in a tenant unit of its own (nothing else is
   * written). The actor is nobody known (`actor_id` null): the account is the target.
   */
  private async recordFailure(tenantId: string, userId: string, origin: RequestOrigin, reason: string): Promise<void> {
    await this.deps.uow.run(tenantId, (repos) =>
      recordAudit(
        this.deps,
        repos,
        { type: 'user', id: null, sessionId: null, ip: origin.ip ?? null },
        { action: 'auth.login_failed', target: { type: 'user', id: userId }, summary: { reason } },
      ),
    );
  }
}
