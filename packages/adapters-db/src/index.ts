/**
 * PostgreSQL (or embedded PGlite) persistence for the Shipyard core, on MikroORM: every
 * repository port and the unit of work, tenant-scoped by the core's isolation policy, with the
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
} from './database.js';
export { DATABASE, dbModule } from './db.module.js';
