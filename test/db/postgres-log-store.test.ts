import type { Database } from '@shipyard/adapters-db';
import { logStoreContract } from '../contracts/log-store.contract.js';
import { openPostgres, storeTenant } from './helpers.js';
import { databaseLogStoreSpecifics } from './log-store-specifics.js';

let database: Database | undefined;
const getDatabase = (): Database => {
  if (database === undefined) throw new Error('the database did not open');
  return database;
};

logStoreContract('postgres', async () => {
  const subject = await openPostgres({ pool: { max: 4 } });
  database = subject.database;
  return {
    store: subject.database.logStore,
    newTenant: () => storeTenant(subject.database.uow),
    close: () => subject.close(),
  };
});
databaseLogStoreSpecifics('postgres', getDatabase);
