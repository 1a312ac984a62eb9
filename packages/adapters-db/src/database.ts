import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { type Logger, type LogStore, SilentLogger, type UnitOfWork } from '@shipyard/core';
import { PGliteDriver } from 'mikro-orm-pglite';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { FastReads } from './fast-reads.js';
import { MIGRATIONS } from './migrations/index.js';
import { MikroOrmLogStore } from './mikro-orm-log-store.js';
import { MikroOrmUnitOfWork } from './mikro-orm-unit-of-work.js';
import { OrmLogger } from './orm-logger.js';
import { patchPGliteStatementSplitting } from './pglite-statements.js';
import { ADAPTER_SCHEMAS, SCHEMAS } from './schemas/index.js';
import {
  APPLICATION_ROLE_REFUSED,
  ApplicationRoleError,
  asOwner,
  installTenantSessions,
  withTenant,
} from './tenant-session.js';

export interface PoolOptions {
  /** Connections kept open when idle (default 0). */
  min?: number;
  /** Most connections at once (default 10). */
  max?: number;
  /** How long an idle connection stays open (default 30 s). */
  idleTimeoutMs?: number;
  /** How long a request waits for a free connection before failing (default 10 s). */
  acquireTimeoutMs?: number;
}

export interface DatabaseOptions {
  /**
   * `postgres://user:password@host:port/database`. Unset: embedded PGlite. Every connection runs
   * as the application role `<database>_app` (made by the migrations; the user must be a member
   * of it, as a superuser or the migrations' user is), under row-level security.
   */
  url?: string;
  /**
   * Where `migrate()` connects, as the tables' owner (default: `url`). PostgreSQL only: PGlite
   * migrates on its one session, as its own superuser.
   */
  migrationUrl?: string;
  /**
   * PGlite's directory when `url` is unset (created if missing); in memory when omitted. One
   * process owns it at a time, through the lock file `<dataDir>.lock` (see `acquireDataDirLock`).
   */
  dataDir?: string;
  /** Connection pool of a PostgreSQL server (PGlite has a single connection). */
  pool?: PoolOptions;
  /** Logs every query (with its parameters) at debug level. */
  debug?: boolean;
  logger?: Logger;
}

/** The connection pool at one moment (for metrics). PGlite reports its single connection the same way. */
export interface PoolStats {
  /** Connections lent to a unit of work. */
  used: number;
  /** Connections open and idle. */
  free: number;
  /** Requests waiting for a connection. */
  pending: number;
  /** The most connections the pool opens. */
  max: number;
}

/** What `poolStats` reads of the query builder's pool (tarn). */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** A database with the repositories and unit of work of the core, and its schema migrations. */
export interface Database {
  /** `postgres` for a server, `pglite` for the embedded engine. */
  readonly kind: 'postgres' | 'pglite';
  readonly uow: UnitOfWork;
  /** Build and deployment output in `log_chunks`, outside any unit of work (a `MikroOrmLogStore`). */
  readonly logStore: LogStore;
  /** Applies the pending migrations; returns their names. */
  migrate(): Promise<string[]>;
  /** Names of the migrations not applied yet (a production server refuses to start with any). */
  pendingMigrations(): Promise<string[]>;
  /** Whether the database answers. */
  ping(): Promise<boolean>;
  /**
   * Rejects with `ApplicationRoleError` (what to grant) when the connection's user may not take
   * the application role the migrations made; resolves once it can (or before the migrations).
   */
  checkApplicationRole(): Promise<void>;
  /** The connection pool now: cheap, no query. */
  poolStats(): PoolStats;
  /** Closes the connections (and the embedded engine, then releases its directory). */
  close(): Promise<void>;
}

/** Where the embedded engine keeps its files under the application's data directory. */
export const embeddedDataDir = (dataDir: string): string => join(dataDir, 'pglite');

const DEFAULT_POOL = { min: 0, max: 10, idleTimeoutMs: 30_000, acquireTimeoutMs: 10_000 } as const;

/** The query builder's own warnings (a dropped connection, ...), sent to the core's logger. */
function knexLog(logger: Logger): Record<string, (message: unknown) => void> {
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    warn: (message) => logger.warn({ component: 'database' }, text(message)),
    error: (message) => logger.error({ component: 'database' }, text(message)),
    deprecate: (message) => logger.debug({ component: 'database' }, text(message)),
    debug: (message) => logger.debug({ component: 'database' }, text(message)),
  };
}

/** @internal The ORM configuration shared by both engines. */
export function ormOptions(options: DatabaseOptions): Options {
  const logger = options.logger ?? new SilentLogger();
  return {
    driverOptions: { log: knexLog(logger) },
    entities: [...Object.values(SCHEMAS), ...ADAPTER_SCHEMAS],
    discovery: { disableDynamicFileAccess: true },
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      snapshot: false,
      silent: true,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
    },
    ensureDatabase: false,
    allowGlobalContext: false,
    propagationOnPrototype: false,
    forceUndefined: false,
    debug: options.debug === true ? ['query', 'query-params', 'info'] : false,
    colors: false,
    loggerFactory: (loggerOptions) => new OrmLogger(loggerOptions, logger.child({ component: 'database' })),
  };
}

/**
 * Opens the database: a PostgreSQL server when `url` is set, else embedded PGlite (in `dataDir`,
 * or in memory). Both use the same mappings and migrations; call `migrate()` before use.
 * PGlite in `dataDir` is refused with `DataDirLockedError` while another process (or another
 * database of this process) has that directory open.
 */
export async function createDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const pool = { ...DEFAULT_POOL, ...options.pool };
  const tarn = {
    min: pool.min,
    max: pool.max,
    idleTimeoutMillis: pool.idleTimeoutMs,
    acquireTimeoutMillis: pool.acquireTimeoutMs,
  };
  let pglite: PGlite | undefined;
  let lock: DataDirLock | undefined;
  let orm: MikroORM;
  if (options.url !== undefined && options.url !== '') {
    orm = await MikroORM.init({
      ...ormOptions(options),
      driver: PostgreSqlDriver,
      clientUrl: options.url,
      pool: tarn,
    });
  } else {
    patchPGliteStatementSplitting();
    if (options.dataDir !== undefined) {
      await mkdir(options.dataDir, { recursive: true });
      // Before the engine touches the files: a second engine on them would lose writes.
      lock = acquireDataDirLock(options.dataDir);
      if (lock.tookOverFrom !== undefined) {
        options.logger?.warn(
          { component: 'database', lockFile: lock.lockFile, previousOwner: lock.tookOverFrom },
          `took over the lock of process ${lock.tookOverFrom.pid}, which stopped without releasing it`,
        );
      }
    }
    try {
      const base = ormOptions(options);
      const opened = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
      pglite = opened;
      orm = await MikroORM.init({
        ...base,
        driver: PGliteDriver,
        dbName: 'postgres',
        // One engine, one session: units of work take turns on it.
        pool: { ...tarn, min: 1, max: 1 },
        driverOptions: { ...base.driverOptions, connection: { pglite: () => opened } },
      });
    } catch (error) {
      try {
        await pglite?.close();
      } finally {
        lock?.release();
      }
      throw error;
    }
  }
  installTenantSessions(knexOf(orm).client as Parameters<typeof installTenantSessions>[0]);
  const migrationUrl =
    pglite === undefined &&
    options.migrationUrl !== undefined &&
    options.migrationUrl !== '' &&
    options.migrationUrl !== options.url
      ? options.migrationUrl
      : undefined;
  return new MikroOrmDatabase(orm, pglite, lock, options, pglite === undefined ? pool.max : 1, migrationUrl);
}

const knexOf = (orm: MikroORM) => (orm.em.getConnection() as unknown as { getKnex(): { client: unknown } }).getKnex();

class MikroOrmDatabase implements Database {
  readonly kind: 'postgres' | 'pglite';
  readonly uow: UnitOfWork;
  readonly logStore: LogStore;

  constructor(
    private readonly orm: MikroORM,
    private readonly pglite: PGlite | undefined,
    private readonly lock: DataDirLock | undefined,
    private readonly options: DatabaseOptions,
    private readonly poolMax: number,
    private readonly migrationUrl: string | undefined,
  ) {
    const logger = options.logger;
    this.kind = pglite === undefined ? 'postgres' : 'pglite';
    this.uow = new MikroOrmUnitOfWork(orm, {
      connectAttempts: poolMax + 1,
      logger,
      ...(pglite === undefined
        ? {
            fastReads: new FastReads(() => knexOf(orm)),
          }
        : {}),
    });
    this.logStore = new MikroOrmLogStore(orm);
  }

  /** As the tables' owner: on `migrationUrl` when it is another user, else as the connection's own user. */
  async migrate(): Promise<string[]> {
    if (this.migrationUrl === undefined) {
      const applied = await asOwner(() => this.orm.migrator.up());
      return applied.map((migration) => migration.name);
    }
    const owner = await MikroORM.init({
      ...ormOptions(this.options),
      driver: PostgreSqlDriver,
      clientUrl: this.migrationUrl,
      pool: { min: 0, max: 1 },
    });
    try {
      const applied = await owner.migrator.up();
      return applied.map((migration) => migration.name);
    } finally {
      await owner.close(true);
    }
  }

  async pendingMigrations(): Promise<string[]> {
    const pending = await this.orm.migrator.getPendingMigrations();
    return pending.map((migration) => migration.name);
  }

  async ping(): Promise<boolean> {
    const status = await this.orm.checkConnection();
    return status.ok;
  }

  async checkApplicationRole(): Promise<void> {
    try {
      await withTenant('', () => this.orm.em.getConnection().execute('select 1'));
    } catch (error) {
      if ((error as { code?: unknown }).code === APPLICATION_ROLE_REFUSED) {
        throw new ApplicationRoleError((error as Error).message);
      }
      throw error;
    }
  }

  poolStats(): PoolStats {
    const knex = (this.orm.em.getConnection() as unknown as { getKnex(): { client: { pool?: TarnPool } } }).getKnex();
    const pool = knex.client.pool;
    // No pool before the first query, nor once closed.
    if (pool === undefined || pool === null) return { used: 0, free: 0, pending: 0, max: this.poolMax };
    return { used: pool.numUsed(), free: pool.numFree(), pending: pool.numPendingAcquires(), max: this.poolMax };
  }

  async close(): Promise<void> {
    try {
      await this.orm.close(true);
    } finally {
      try {
        await this.pglite?.close();
      } finally {
        this.lock?.release();
      }
    }
  }
}
