import { AuthenticationError } from '../domain/app.errors.js';
import type { Principal } from '../domain/role.js';
import type { AccessTokenClaims } from '../ports/token-issuer.port.js';
import type { CoreDeps } from './core-deps.js';

export interface Authenticated {
  principal: Principal;
  token: AccessTokenClaims;
}

/**
 * Turns an access token into a `Principal`: checks it and asks the blacklist. When the
 * blacklist cannot answer the error propagates (fail closed): nobody gets in unchecked.
 */
export class Authenticate {
  constructor(private readonly deps: Pick<CoreDeps, 'tokens' | 'blacklist'>) {}

  async execute(accessToken: string): Promise<Authenticated> {
    const token = await this.deps.tokens.verifyAccess(accessToken);
    if (await this.deps.blacklist.has(token.tokenId)) throw new AuthenticationError('Token has been revoked');
    return { principal: { userId: token.userId, tenantId: token.tenantId, role: token.role }, token };
  }
}
