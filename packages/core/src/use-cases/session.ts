import { RefreshToken } from '../domain/refresh-token.entity.js';
import type { User } from '../domain/user.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import type { CoreDeps } from './core-deps.js';

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
    user.tenantId,
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
