import type { Principal } from '../domain/role.js';
import type { AccessTokenClaims } from '../ports/token-issuer.port.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { endSession } from './session.js';

/**
 * Ends a sign-in session: the access token used is blacklisted, then the session is ended
 * (`endSession`): its refresh-token family is revoked and every access token it already issued
 * stops working at once, not only the one used to log out.
 */
export class Logout {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'blacklist' | 'tokens'>) {}

  async execute(
    actor: Principal,
    token: Pick<AccessTokenClaims, 'tokenId' | 'expiresAt' | 'sessionId'>,
  ): Promise<void> {
    await this.deps.blacklist.add(token.tokenId, token.expiresAt);
    await endSession(this.deps, actor.tenantId, token.sessionId, (repos) =>
      recordAudit(
        this.deps,
        repos,
        { ...actor, sessionId: token.sessionId },
        { action: 'auth.logout', target: { type: 'user', id: actor.userId } },
      ),
    );
  }
}
