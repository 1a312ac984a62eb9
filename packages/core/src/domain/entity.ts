import { ConflictError } from './app.errors.js';

/** What a new entity needs from outside: an id and the time of its creation. */
export interface NewEntity {
  id: string;
  now: Date;
}

/**
 * Base fields of every entity. `version` counts committed changes: repositories refuse to
 * write over a newer version (optimistic locking), so two concurrent writers cannot both win.
 */
export abstract class Entity {
  id!: string;
  createdAt!: Date;
  updatedAt!: Date;
  version!: number;

  protected init(ctx: NewEntity): void {
    this.id = ctx.id;
    this.createdAt = ctx.now;
    this.updatedAt = ctx.now;
    this.version = 1;
  }

  protected touch(now: Date): void {
    this.updatedAt = now;
  }
}

/** A status machine: for each status, the statuses it may move to. */
export type StatusMachine<S extends string> = Readonly<Record<S, readonly S[]>>;

/** Throws `ConflictError` unless `machine` allows `from → to`. */
export function assertTransition<S extends string>(what: string, machine: StatusMachine<S>, from: S, to: S): void {
  if (!machine[from].includes(to)) {
    throw new ConflictError(`${what} cannot go from ${from} to ${to}`, { from, to });
  }
}
