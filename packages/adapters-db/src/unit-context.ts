import type { EntityManager } from '@mikro-orm/core';

/**
 * What the repositories of one unit of work share: its EntityManager fork, and the hook that
 * opens the unit's transaction before its first write (a unit that only reads never opens one).
 */
export class UnitContext {
  constructor(readonly em: EntityManager) {}

  /** Call before changing anything in the unit: the change must belong to its transaction. */
  async beforeWrite(): Promise<void> {
    if (!this.em.isInTransaction()) await this.em.begin();
  }
}
