import { ConflictError, NotFoundError } from '../domain/app.errors.js';
import type { Entity } from '../domain/entity.js';
import { ENTITY_LABELS, type EntityName, MODEL, RELATIONS } from '../domain/model.js';

/** A stored row: an entity instance with its fields readable by name. */
export type Row = Entity & Record<string, unknown>;

type Write =
  | { kind: 'insert'; row: Row }
  | { kind: 'update'; row: Row; baseVersion: number }
  | { kind: 'delete'; row: null };

/** Copies an entity without its loaded relations; dates, arrays and maps are copied too. */
export function cloneRow<T extends Entity>(entity: T, entityName: EntityName): T {
  const copy = Object.create(Object.getPrototypeOf(entity)) as Record<string, unknown>;
  const relations = RELATIONS[entityName] ?? {};
  for (const [key, value] of Object.entries(entity)) {
    if (Object.hasOwn(relations, key)) continue;
    copy[key] = value !== null && typeof value === 'object' ? structuredClone(value) : value;
  }
  return copy as T;
}

const referencing = Object.entries(MODEL).flatMap(([name, model]) =>
  model.foreignKeys.map((fk) => ({ entity: name as EntityName, ...fk })),
);

/**
 * The committed state of an in-memory store. Transactions buffer their writes and apply them at
 * commit, after checking versions, unique keys and foreign keys against the committed state, so
 * the in-memory adapters keep the same guarantees as the database: isolation (no dirty reads),
 * atomic commit, rollback by discarding, `ConflictError` for stale writes and taken keys.
 */
export class InMemoryDatabase {
  readonly tables = new Map<EntityName, Map<string, Row>>();
  private readonly commitListeners = new Set<() => void>();

  table(entity: EntityName): Map<string, Row> {
    let table = this.tables.get(entity);
    if (table === undefined) {
      table = new Map();
      this.tables.set(entity, table);
    }
    return table;
  }

  begin(): InMemoryTransaction {
    return new InMemoryTransaction(this);
  }

  /** Calls `listener` after every commit that wrote something (e.g. to relay the outbox). */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** @internal */
  notifyCommit(): void {
    for (const listener of this.commitListeners) listener();
  }

  /** Empties every table. */
  clear(): void {
    this.tables.clear();
  }
}

export class InMemoryTransaction {
  private readonly writes = new Map<EntityName, Map<string, Write>>();
  private done = false;

  constructor(private readonly db: InMemoryDatabase) {}

  private staged(entity: EntityName): Map<string, Write> {
    let staged = this.writes.get(entity);
    if (staged === undefined) {
      staged = new Map();
      this.writes.set(entity, staged);
    }
    return staged;
  }

  /** The row as this transaction sees it (its own writes over the committed state). */
  read(entity: EntityName, id: string): Row | undefined {
    const write = this.writes.get(entity)?.get(id);
    if (write !== undefined) return write.row ?? undefined;
    return this.db.tables.get(entity)?.get(id);
  }

  /** Every row of a table as this transaction sees it. Rows are the stored objects: do not mutate. */
  *rows(entity: EntityName): Iterable<Row> {
    const staged = this.writes.get(entity);
    for (const [id, row] of this.db.tables.get(entity) ?? []) {
      if (staged?.has(id)) continue;
      yield row;
    }
    for (const write of staged?.values() ?? []) {
      if (write.row !== null) yield write.row;
    }
  }

  insert(entity: EntityName, row: Row): void {
    this.assertOpen();
    if (this.read(entity, row.id) !== undefined) {
      throw new ConflictError(`${ENTITY_LABELS[entity]} already exists`, { field: 'id' });
    }
    this.checkForeignKeys(entity, row, (e, id) => this.read(e, id));
    this.checkUniques(entity, row, this.rows(entity));
    this.staged(entity).set(row.id, { kind: 'insert', row });
  }

  /** Stages a new version of a row; `expectedVersion` is the version the caller read. */
  update(entity: EntityName, row: Row, expectedVersion: number): void {
    this.assertOpen();
    const current = this.read(entity, row.id);
    if (current === undefined) throw new NotFoundError(ENTITY_LABELS[entity]);
    if (current.version !== expectedVersion) throw ConflictError.stale(ENTITY_LABELS[entity]);
    this.checkForeignKeys(entity, row, (e, id) => this.read(e, id));
    this.checkUniques(entity, row, this.rows(entity));
    row.version = expectedVersion + 1;
    const staged = this.staged(entity);
    const previous = staged.get(row.id);
    staged.set(
      row.id,
      previous?.kind === 'insert'
        ? { kind: 'insert', row }
        : { kind: 'update', row, baseVersion: previous?.kind === 'update' ? previous.baseVersion : expectedVersion },
    );
  }

  /** Deletes a row and applies the model's `ON DELETE` rules to the rows that reference it. */
  delete(entity: EntityName, id: string): void {
    this.assertOpen();
    if (this.read(entity, id) === undefined) return;
    this.staged(entity).set(id, { kind: 'delete', row: null });
    for (const fk of referencing) {
      if (fk.references !== entity) continue;
      for (const child of [...this.rows(fk.entity)]) {
        if (child[fk.field] !== id) continue;
        if (fk.onDelete === 'cascade') {
          this.delete(fk.entity, child.id);
        } else {
          const copy = cloneRow(child, fk.entity) as Row;
          copy[fk.field] = null;
          this.update(fk.entity, copy, child.version);
        }
      }
    }
  }

  /** Applies every write at once, or none: throws `ConflictError` when the state moved under it. */
  commit(): boolean {
    this.assertOpen();
    this.done = true;
    let wrote = false;
    // Validate everything before touching the committed state.
    for (const [entity, staged] of this.writes) {
      const table = this.db.tables.get(entity);
      for (const [id, write] of staged) {
        const committed = table?.get(id);
        if (write.kind === 'insert' && committed !== undefined) {
          throw new ConflictError(`${ENTITY_LABELS[entity]} already exists`, { field: 'id' });
        }
        if (write.kind === 'update' && committed?.version !== write.baseVersion) {
          throw ConflictError.stale(ENTITY_LABELS[entity]);
        }
      }
    }
    const finalRead = (entity: EntityName, id: string): Row | undefined => this.read(entity, id);
    for (const [entity, staged] of this.writes) {
      for (const write of staged.values()) {
        if (write.row === null) continue;
        this.checkForeignKeys(entity, write.row, finalRead);
        this.checkUniques(entity, write.row, this.rows(entity));
      }
      // A row committed by someone else meanwhile that references a row deleted here.
      for (const fk of referencing) {
        if (fk.references !== entity) continue;
        for (const [id, write] of staged) {
          if (write.row !== null) continue;
          for (const child of this.rows(fk.entity)) {
            if (child[fk.field] === id) throw new ConflictError(`${ENTITY_LABELS[fk.entity]} was added meanwhile`);
          }
        }
      }
    }
    for (const [entity, staged] of this.writes) {
      const table = this.db.table(entity);
      for (const [id, write] of staged) {
        wrote = true;
        if (write.row === null) table.delete(id);
        else table.set(id, write.row);
      }
    }
    if (wrote) this.db.notifyCommit();
    return wrote;
  }

  rollback(): void {
    this.done = true;
    this.writes.clear();
  }

  private assertOpen(): void {
    if (this.done) throw new Error('This unit of work has already ended');
  }

  private checkForeignKeys(
    entity: EntityName,
    row: Row,
    lookup: (entity: EntityName, id: string) => Row | undefined,
  ): void {
    for (const fk of MODEL[entity].foreignKeys) {
      const value = row[fk.field];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string' || lookup(fk.references, value) === undefined) {
        throw new NotFoundError(ENTITY_LABELS[fk.references], { field: fk.field });
      }
    }
  }

  private checkUniques(entity: EntityName, row: Row, others: Iterable<Row>): void {
    const uniques = MODEL[entity].uniques;
    if (uniques.length === 0) return;
    for (const other of others) {
      if (other.id === row.id) continue;
      for (const unique of uniques) {
        if (unique.fields.every((field) => other[field] === row[field])) {
          throw new ConflictError(`${ENTITY_LABELS[entity]} with this ${unique.name} already exists`, {
            field: unique.name,
          });
        }
      }
    }
  }
}
