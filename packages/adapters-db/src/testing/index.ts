/**
 * Helpers for test suites that need a real PostgreSQL: a scratch database per suite, created on
 * the server and dropped afterwards. Not for production code.
 */

export { schemaDrift } from '../migration-files.js';
export { hasMultipleStatements } from '../pglite-statements.js';
export { openScratchDatabase, type ScratchDatabase } from './scratch-database.js';
export { createScratchPostgres, type ScratchPostgres, type ScratchPostgresOptions } from './scratch-postgres.js';
