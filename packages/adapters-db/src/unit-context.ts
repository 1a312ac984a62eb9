import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { FastReads } from './fast-reads.js';
import { currentTenantSetting, withTenant } from './tenant-session.js';

/**
 * What the repositories of one unit of work share: its EntityManager fork, the hook that opens
 * the unit's transaction before its first write (a unit that only reads never opens one), and
 * the tenant its statements run under for row-level security.
 */
export class UnitContext {
  constructor(
    readonly em: EntityManager,
    private readonly fast?: FastReads,
  ) {}

  /** The fast read path, while the unit has written nothing (PostgreSQL only). */
  get fastReads(): FastReads | undefined {
    return this.fast !== undefined && !this.em.isInTransaction() ? this.fast : undefined;
  }

  private beginning: Promise<void> | undefined;
  /** The tenant setting of the unit's transaction, once it has begun. */
  private transactionTenant: string | undefined;

  /**
   * Call before changing anything in the unit: the change must belong to its transaction. Writes
   * started together share one BEGIN (two would open two transactions and lose one).
   */
  async beforeWrite(): Promise<void> {
    if (this.em.isInTransaction()) return;
    this.beginning ??= this.em.begin().finally(() => {
      this.beginning = undefined;
    });
    // The transaction's connection was given the current tenant when it was taken (tenant-session.ts).
    const tenant = currentTenantSetting();
    await this.beginning;
    this.transactionTenant ??= tenant;
  }

  /**
   * Runs a repository's `work` under a tenant's `setting` (`settingOf`): for the repositories of a `run` unit, its own
   * tenant (nothing to do); for a platform unit's `inTenant(id)`, the connections its reads take
   * are given `id`, and an open transaction switches to it (its pending changes written first,
   * under the tenant they were made in) with a transaction-local setting.
   */
  async inTenant<T>(setting: string, work: () => Promise<T>): Promise<T> {
    const inTransaction = this.em.isInTransaction();
    if (setting === currentTenantSetting() && (!inTransaction || this.transactionTenant === setting)) return work();
    return withTenant(setting, async () => {
      if (this.em.isInTransaction() && this.transactionTenant !== setting) {
        await this.em.flush();
        await (this.em as SqlEntityManager).execute(`select set_config('app.tenant_id', ?, true)`, [setting]);
        this.transactionTenant = setting;
      }
      return work();
    });
  }
}
