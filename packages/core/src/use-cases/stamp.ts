import type { NewEntity } from '../domain/entity.js';
import type { CoreDeps } from './core-deps.js';

/** An id and a timestamp for a new entity. */
export const stamp = (deps: Pick<CoreDeps, 'clock' | 'ids'>): NewEntity => ({
  id: deps.ids.next(),
  now: deps.clock.now(),
});
