import { splitInlineCredentials } from '../domain/repo-url.js';
import { parseListQuery } from '../query/list-query.js';
import type { CoreDeps } from './core-deps.js';
import { oauthTokenContext } from './oauth.use-cases.js';
import { retryOnConflict } from './retry.js';
import { envContext, repoCredentialsContext } from './service-env.js';

export interface RotationReport {
  tenants: number;
  /** Values re-encrypted under the current key (env vars, repository credentials, OAuth tokens). */
  reencrypted: number;
  servicesUpdated: number;
  oauthAccountsUpdated: number;
}

/**
 * Re-encrypts every stored secret (service env vars and repository credentials, OAuth access tokens) that was made with an
 * older key, under the current one. One transaction per batch of rows, and rows already under
 * the current key are skipped, so an interrupted run loses nothing and the next run resumes.
 * Once it has finished, old keys can be removed from the key list.
 */
export class RotateSecrets {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'encryptor' | 'clock' | 'logger'>) {}

  async execute(options: { batchSize?: number } = {}): Promise<RotationReport> {
    const batchSize = options.batchSize ?? 100;
    const report: RotationReport = { tenants: 0, reencrypted: 0, servicesUpdated: 0, oauthAccountsUpdated: 0 };
    let after: string | null = null;
    for (;;) {
      const tenantIds: string[] = await this.deps.uow.platform((platform) => platform.listTenantIds(after, batchSize));
      if (tenantIds.length === 0) break;
      for (const tenantId of tenantIds) {
        await this.rotateServices(tenantId, batchSize, report);
        await this.rotateOAuthAccounts(tenantId, batchSize, report);
        report.tenants += 1;
      }
      after = tenantIds[tenantIds.length - 1] ?? null;
      this.deps.logger.info({ ...report }, 'secret rotation progress');
    }
    return report;
  }

  private async rotateServices(tenantId: string, batchSize: number, report: RotationReport): Promise<void> {
    const { encryptor, clock } = this.deps;
    for (let skip = 0; ; skip += batchSize) {
      // A row edited meanwhile fails the batch's commit: the batch runs again on fresh rows.
      const count = await retryOnConflict(() =>
        this.deps.uow.run(tenantId, async (repos) => {
          const page = await repos.services.list(
            parseListQuery('service', { skip, limit: batchSize, sortBy: 'createdAt', sortOrder: 'asc' }),
          );
          for (const service of page.items) {
            const stale = Object.entries(service.env).filter(([, ciphertext]) => encryptor.needsRotation(ciphertext));
            const credentials = service.repoCredentials;
            const staleCredentials = credentials !== null && encryptor.needsRotation(credentials);
            // A URL stored with its credentials inline (before they were kept apart) has them encrypted now.
            const inline = credentials === null ? splitInlineCredentials(service.repoUrl) : null;
            if (stale.length === 0 && !staleCredentials && inline === null) continue;
            if (inline !== null) {
              const context = repoCredentialsContext(tenantId, service.id);
              service.repoUrl = inline.url; // as it was stored, only without its credentials
              service.setRepoCredentials(await encryptor.encrypt(inline.credentials, context), clock.now());
              report.reencrypted += 1;
            }
            const env = { ...service.env };
            for (const [name, ciphertext] of stale) {
              const context = envContext(tenantId, service.id, name);
              env[name] = await encryptor.encrypt(await encryptor.decrypt(ciphertext, context), context);
            }
            if (stale.length > 0) service.replaceEnv(env, clock.now());
            if (staleCredentials) {
              const context = repoCredentialsContext(tenantId, service.id);
              const plain = await encryptor.decrypt(credentials, context);
              service.setRepoCredentials(await encryptor.encrypt(plain, context), clock.now());
            }
            await repos.services.update(service);
            report.reencrypted += stale.length + (staleCredentials ? 1 : 0);
            report.servicesUpdated += 1;
          }
          return page.items.length;
        }),
      );
      if (count < batchSize) return;
    }
  }

  private async rotateOAuthAccounts(tenantId: string, batchSize: number, report: RotationReport): Promise<void> {
    const { encryptor, clock } = this.deps;
    for (let skip = 0; ; skip += batchSize) {
      // A row edited meanwhile fails the batch's commit: the batch runs again on fresh rows.
      const count = await retryOnConflict(() =>
        this.deps.uow.run(tenantId, async (repos) => {
          const page = await repos.oauthAccounts.list(
            parseListQuery('oauthAccount', { skip, limit: batchSize, sortBy: 'createdAt', sortOrder: 'asc' }),
          );
          for (const account of page.items) {
            if (!encryptor.needsRotation(account.accessToken)) continue;
            const context = oauthTokenContext(tenantId, account.id);
            const plain = await encryptor.decrypt(account.accessToken, context);
            account.refresh(
              { login: account.login, accessToken: await encryptor.encrypt(plain, context), scopes: account.scopes },
              clock.now(),
            );
            await repos.oauthAccounts.update(account);
            report.reencrypted += 1;
            report.oauthAccountsUpdated += 1;
          }
          return page.items.length;
        }),
      );
      if (count < batchSize) return;
    }
  }
}
