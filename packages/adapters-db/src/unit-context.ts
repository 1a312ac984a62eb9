import type { EntityManager } from '@mikro-orm/core';
import type { FastReads } from './fast-reads.js';

/**
 * What the repositories of one unit of work share: its EntityManager fork, and the hook that
 * opens the unit's transaction before its first write (a unit that only reads never opens one).
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

  /**
   * Call before changing anything in the unit: the change must belong to its transaction. Writes
   * started together share one BEGIN (two would open two transactions and lose one).
   */
  async beforeWrite(): Promise<void> {
    if (this.em.isInTransaction()) return;
    this.beginning ??= this.em.begin().finally(() => {
      this.beginning = undefined;
    });
    await this.beginning;
  }
}
