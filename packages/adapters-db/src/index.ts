/**
 * PostgreSQL (or embedded PGlite) persistence for the Shipyard core, on MikroORM: every
 * repository port, the unit of work and the log store, tenant-scoped by the core's isolation policy, with the
 * schema migrations.
 */
export {
  acquireDataDirLock,
  type DataDirLock,
  DataDirLockedError,
  type DataDirLockOwner,
  dataDirLockFile,
} from './data-dir-lock.js';
export {
  createDatabase,
  type Database,
  type DatabaseOptions,
  embeddedDataDir,
  type PoolOptions,
  type PoolStats,
} from './database.js';
export { DATABASE, dbModule } from './db.module.js';
export {
  LOG_CHUNKS_KEPT,
  type LogStoreOptions,
  MAX_CHUNK_BYTES,
  MAX_LINE_BYTES,
  MikroOrmLogStore,
  TRUNCATED_MARK,
} from './mikro-orm-log-store.js';
export { ApplicationRoleError } from './tenant-session.js';
