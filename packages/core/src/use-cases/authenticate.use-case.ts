import { AuthenticationError } from '../domain/app.errors.js';
import type { Principal } from '../domain/role.js';
import type { User } from '../domain/user.entity.js';
import type { AccessTokenClaims } from '../ports/token-issuer.port.js';
import type { CoreDeps } from './core-deps.js';
import { sessionKey } from './session.js';

export interface Authenticated {
  principal: Principal;
  token: AccessTokenClaims;
  /** The user as read for this request: hand it on (`GetMe`) instead of reading it again. */
  user: User;
}

/**
 * Turns an access token into a `Principal`: checks the token, asks the blacklist, then reads
 * the user, so a deleted or deactivated user is out at once and a role change applies to the
 * next request (the role in the token is only a hint), and a token issued before the user's
 * sessions were ended (`sessionEpoch`) is refused. When the blacklist cannot answer the
 * error propagates (fail closed): nobody gets in unchecked.
 */
export class Authenticate {
  constructor(private readonly deps: Pick<CoreDeps, 'tokens' | 'blacklist' | 'uow'>) {}

  async execute(accessToken: string): Promise<Authenticated> {
    const token = await this.deps.tokens.verifyAccess(accessToken);
    // The blacklist (the token and its session, in one question) and the user are asked at once:
    // a request waits for one round trip, not two. Both answers are needed to let it in.
    const [revoked, user] = await Promise.all([
      this.deps.blacklist.hasAny([token.tokenId, sessionKey(token.sessionId)]),
      this.deps.uow.run(token.tenantId, (repos) => repos.users.find(token.userId)),
    ]);
    if (revoked) throw new AuthenticationError('Token has been revoked');
    if (user === null || !user.isActive)
      throw new AuthenticationError('This account no longer exists or is deactivated');
    // Sessions ended since the token was issued (password changed or reset, deactivated, demoted).
    if (token.sessionEpoch !== user.sessionEpoch) throw new AuthenticationError('This session has ended');
    return {
      principal: { userId: user.id, tenantId: user.tenantId, role: user.role, sessionId: token.sessionId },
      token,
      user,
    };
  }
}
