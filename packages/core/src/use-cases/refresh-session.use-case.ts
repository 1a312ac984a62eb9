import { AuthenticationError, ConflictError } from '../domain/app.errors.js';
import type { Repositories } from '../ports/repository.port.js';
import type { RefreshTokenClaims } from '../ports/token-issuer.port.js';
import { type RequestOrigin, recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { type AuthSession, endSession, openSession } from './session.js';

type Outcome = { kind: 'ok'; session: AuthSession } | { kind: 'reused' } | { kind: 'invalid' };

/**
 * Exchanges a refresh token for a new pair (rotation). A token presented a second time, even by
 * two requests racing each other, is treated as stolen: the whole session ends at once, as on
 * logout (`endSession`): its family is revoked and every access token it issued stops working,
 * the newest pair included. However many requests present it at once, at most one wins; every
 * other one is an `AuthenticationError`.
 */
export class RefreshSession {
  constructor(
    private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'tokens' | 'logger' | 'blacklist' | 'settings'>,
  ) {}

  async execute(refreshToken: string, origin: RequestOrigin = {}): Promise<AuthSession> {
    const claims = await this.deps.tokens.verifyRefresh(refreshToken);
    let outcome: Outcome;
    try {
      outcome = await this.deps.uow.run(claims.tenantId, (repos) => this.rotate(repos, claims));
    } catch (error) {
      // Another request used this token between our read and our commit.
      if (!(error instanceof ConflictError)) throw error;
      outcome = { kind: 'reused' };
    }
    if (outcome.kind === 'ok') return outcome.session;
    if (outcome.kind === 'reused') {
      const revoked = await endSession(this.deps, claims.tenantId, claims.familyId, (repos) =>
        recordAudit(
          this.deps,
          repos,
          { type: 'user', id: null, sessionId: claims.familyId, ip: origin.ip ?? null },
          { action: 'auth.refresh_reused', target: { type: 'user', id: claims.userId } },
        ),
      );
      this.deps.logger.warn(
        { tenant_id: claims.tenantId, user_id: claims.userId, family_id: claims.familyId, revoked },
        'refresh token reused: its session is ended',
      );
    }
    throw new AuthenticationError('Invalid or expired refresh token');
  }

  private async rotate(repos: Repositories, claims: RefreshTokenClaims): Promise<Outcome> {
    const now = this.deps.clock.now();
    const stored = await repos.refreshTokens.find(claims.tokenId);
    if (stored === null || stored.userId !== claims.userId || stored.familyId !== claims.familyId) {
      return { kind: 'invalid' };
    }
    if (stored.usedAt !== null || stored.revokedAt !== null) return { kind: 'reused' };
    if (!stored.isUsable(now)) return { kind: 'invalid' };
    // The session's absolute lifetime: refreshing never carries it past SESSION_MAX_AGE.
    if (now.getTime() - stored.sessionStartedAt.getTime() >= this.deps.settings.sessionMaxAgeSeconds * 1000) {
      return { kind: 'invalid' };
    }
    const user = await repos.users.find(claims.userId);
    if (user === null || !user.isActive) return { kind: 'invalid' };
    stored.markUsed(now);
    await repos.refreshTokens.update(stored);
    return {
      kind: 'ok',
      session: await openSession(this.deps, repos, user, stored.familyId, stored.sessionStartedAt),
    };
  }
}
