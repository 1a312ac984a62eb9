import type { Principal } from '../domain/role.js';
import type { AccessTokenClaims } from '../ports/token-issuer.port.js';
import { sessionKey } from './authenticate.use-case.js';
import type { CoreDeps } from './core-deps.js';

/**
 * Ends a sign-in session: its refresh-token family is revoked (no new access token can be
 * minted) and the session is blacklisted for one access-token lifetime, so every access token
 * it already issued stops working at once, not only the one used to log out.
 */
export class Logout {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'blacklist' | 'tokens'>) {}

  async execute(
    actor: Principal,
    token: Pick<AccessTokenClaims, 'tokenId' | 'expiresAt' | 'sessionId'>,
  ): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.blacklist.add(token.tokenId, token.expiresAt);
    await this.deps.blacklist.add(
      sessionKey(token.sessionId),
      new Date(now.getTime() + this.deps.tokens.accessTokenTtlSeconds * 1000),
    );
    await this.deps.uow.run((repos) => repos.refreshTokens.revokeFamily(actor.tenantId, token.sessionId, now));
  }
}
