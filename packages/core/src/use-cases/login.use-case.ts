import { AuthenticationError, ValidationError } from '../domain/app.errors.js';
import type { CoreDeps } from './core-deps.js';
import { PASSWORD_MAX_LENGTH } from './password-policy.js';
import { retryOnConflict } from './retry.js';
import { type AuthSession, openSession } from './session.js';

const INVALID_CREDENTIALS = 'Invalid email or password';

/**
 * Signs in with email and password. An unknown email, a wrong password and a deactivated user
 * get the same answer after the same hashing work, so the answer tells nothing about accounts.
 */
export class Login {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'passwords' | 'tokens'>) {}

  async execute(input: { email: string; password: string }): Promise<AuthSession> {
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
      throw new AuthenticationError(INVALID_CREDENTIALS);
    }
    const valid = await this.deps.passwords.verify(user.passwordHash, input.password);
    if (!valid || !user.isActive) throw new AuthenticationError(INVALID_CREDENTIALS);

    // Parallel sign-ins of one user all write its last_login_at: the later ones run again.
    return retryOnConflict(() =>
      this.deps.uow.run(user.tenantId, async (repos) => {
        const current = await repos.users.get(user.id);
        if (!current.isActive) throw new AuthenticationError(INVALID_CREDENTIALS);
        current.recordLogin(this.deps.clock.now());
        await repos.users.update(current);
        return openSession(this.deps, repos, current, this.deps.ids.next());
      }),
    );
  }
}
