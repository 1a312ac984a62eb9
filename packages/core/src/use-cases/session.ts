import { RefreshToken } from '../domain/refresh-token.entity.js';
import type { User } from '../domain/user.entity.js';
import type { Repositories } from '../ports/repository.port.js';
import { type AuditEntry, recordAudit } from './audit.use-cases.js';
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
  /** The sign-in session (the refresh-token family) the tokens belong to. */
  sessionId: string;
  user: User;
}

/**
 * Issues an access token and a stored refresh token of `familyId` for `user`. `startedAt` is when
 * the session began (now for a sign-in, the family's start for a refresh): the refresh token
 * expires at the latest `sessionMaxAgeSeconds` after it.
 */
export async function openSession(
  deps: Pick<CoreDeps, 'tokens' | 'ids' | 'clock' | 'settings'>,
  repos: Repositories,
  user: User,
  familyId: string,
  startedAt: Date = deps.clock.now(),
): Promise<AuthSession> {
  const tokenId = deps.ids.next();
  const refresh = await deps.tokens.issueRefresh({ userId: user.id, tenantId: user.tenantId, tokenId, familyId });
  const sessionEnd = new Date(startedAt.getTime() + deps.settings.sessionMaxAgeSeconds * 1000);
  const refreshExpiresAt = refresh.expiresAt < sessionEnd ? refresh.expiresAt : sessionEnd;
  await repos.refreshTokens.add(
    RefreshToken.create(
      { id: tokenId, now: deps.clock.now() },
      { tenantId: user.tenantId, userId: user.id, familyId, expiresAt: refreshExpiresAt, sessionStartedAt: startedAt },
    ),
  );
  const access = await deps.tokens.issueAccess({
    userId: user.id,
    tenantId: user.tenantId,
    role: user.role,
    sessionId: familyId,
    sessionEpoch: user.sessionEpoch,
  });
  return {
    accessToken: access.token,
    refreshToken: refresh.token,
    tokenType: 'bearer',
    expiresIn: deps.tokens.accessTokenTtlSeconds,
    accessTokenExpiresAt: access.expiresAt,
    refreshTokenExpiresAt: refreshExpiresAt,
    sessionId: familyId,
    user,
  };
}

/**
 * Signs `user` in within the caller's unit of work: a new session (`openSession`) and the audit
 * event that records it, whose actor is the user in that session, from `ip`.
 */
export async function signIn(
  deps: Pick<CoreDeps, 'tokens' | 'ids' | 'clock' | 'settings'>,
  repos: Repositories,
  user: User,
  ip: string | null,
  entry: AuditEntry,
): Promise<AuthSession> {
  const sessionId = deps.ids.next();
  const session = await openSession(deps, repos, user, sessionId);
  await recordAudit(deps, repos, { type: 'user', id: user.id, sessionId, ip }, entry);
  return session;
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

/**
 * Ends every session of `user` inside the caller's unit of work (the user is saved by the caller):
 * the session epoch moves on, so every access token issued so far is refused by `Authenticate`
 * at once (the user row is read on every request: no blacklist, nothing lost if Redis forgets),
 * and every refresh token is revoked.
 */
export async function endEverySession(repos: Repositories, user: User, now: Date): Promise<void> {
  user.endAllSessions(now);
  await repos.refreshTokens.revokeAllOfUser(user.id, now);
}
