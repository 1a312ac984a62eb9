import { createDatabase, type Database } from '@shipyard/adapters-db';
import { logStoreContract } from '../contracts/log-store.contract.js';
import { storeTenant } from './helpers.js';
import { databaseLogStoreSpecifics } from './log-store-specifics.js';

let database: Database | undefined;
const getDatabase = (): Database => {
  if (database === undefined) throw new Error('the database did not open');
  return database;
};

logStoreContract('pglite', async () => {
  database = await createDatabase({ pool: { acquireTimeoutMs: 10_000 } });
  await database.migrate();
  const opened = database;
  return { store: opened.logStore, newTenant: () => storeTenant(opened.uow), close: () => opened.close() };
});
databaseLogStoreSpecifics('pglite', getDatabase);
