import type { EntityManager } from '@mikro-orm/core';

/**
 * What the repositories of one unit of work share: its EntityManager fork, and the hook that
 * opens the transaction before the first write when the unit opens it lazily (PGlite, whose
 * single session must not be held by a unit that only reads).
 */
export class UnitContext {
  constructor(readonly em: EntityManager) {}

  /** Call before changing anything in the unit: the change must belong to its transaction. */
  async beforeWrite(): Promise<void> {
    if (!this.em.isInTransaction()) await this.em.begin();
  }
}
