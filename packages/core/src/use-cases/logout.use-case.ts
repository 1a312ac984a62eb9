import type { Principal } from '../domain/role.js';
import type { AccessTokenClaims } from '../ports/token-issuer.port.js';
import type { CoreDeps } from './core-deps.js';

/** Revokes the access token (blacklisted until it expires) and its refresh-token family. */
export class Logout {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'blacklist'>) {}

  async execute(
    actor: Principal,
    token: Pick<AccessTokenClaims, 'tokenId' | 'expiresAt' | 'sessionId'>,
  ): Promise<void> {
    await this.deps.blacklist.add(token.tokenId, token.expiresAt);
    await this.deps.uow.run((repos) =>
      repos.refreshTokens.revokeFamily(actor.tenantId, token.sessionId, this.deps.clock.now()),
    );
  }
}
