import { RefreshToken } from '../domain/refresh-token.entity.js';
import type { User } from '../domain/user.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';
import { retryOnConflict } from './retry.js';

/** The blacklist entry that revokes every access token of a sign-in session. */
export const sessionKey = (sessionId: string): string => `session:${sessionId}`;

/** What a sign-in, a registration or a refresh hands back. */
export interface AuthSession {
  accessToken: string;
  refreshToken: string;
  tokenType: 'bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  user: User;
}

/** Issues an access token and a stored refresh token of `familyId` for `user`. */
export async function openSession(
  deps: Pick<CoreDeps, 'tokens' | 'ids' | 'clock'>,
  repos: Repositories,
  user: User,
  familyId: string,
): Promise<AuthSession> {
  const tokenId = deps.ids.next();
  const refresh = await deps.tokens.issueRefresh({ userId: user.id, tenantId: user.tenantId, tokenId, familyId });
  await repos.refreshTokens.add(
    RefreshToken.create(
      { id: tokenId, now: deps.clock.now() },
      { tenantId: user.tenantId, userId: user.id, familyId, expiresAt: refresh.expiresAt },
    ),
  );
  const access = await deps.tokens.issueAccess({
    userId: user.id,
    tenantId: user.tenantId,
    role: user.role,
    sessionId: familyId,
  });
  return {
    accessToken: access.token,
    refreshToken: refresh.token,
    tokenType: 'bearer',
    expiresIn: deps.tokens.accessTokenTtlSeconds,
    accessTokenExpiresAt: access.expiresAt,
    refreshTokenExpiresAt: refresh.expiresAt,
    user,
  };
}

/**
 * Ends a sign-in session (logout, a reused refresh token): its refresh-token family is revoked,
 * so no new access token can be minted, and the session is blacklisted for one access-token
 * lifetime, so every access token it already issued stops at once. Ending a session that another
 * request is ending too is fine: a revocation that loses the race runs again and finds the rest
 * of the family already revoked. Returns how many refresh tokens this call revoked.
 */
export async function endSession(
  deps: Pick<CoreDeps, 'uow' | 'clock' | 'blacklist' | 'tokens'>,
  tenantId: string,
  sessionId: string,
  /** Also written in the revocation's unit of work (the audit event of why the session ended). */
  alongside?: (repos: Repositories) => Promise<void>,
): Promise<number> {
  const revoked = await retryOnConflict(() =>
    deps.uow.run(tenantId, async (repos) => {
      const count = await repos.refreshTokens.revokeFamily(sessionId, deps.clock.now());
      await alongside?.(repos);
      return count;
    }),
  );
  await deps.blacklist.add(
    sessionKey(sessionId),
    new Date(deps.clock.now().getTime() + deps.tokens.accessTokenTtlSeconds * 1000),
  );
  return revoked;
}
