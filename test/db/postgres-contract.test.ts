import { repositoryContracts } from '../contracts/repository.contract.js';
import { openPostgres } from './helpers.js';

repositoryContracts('postgres', async () => {
  // Every test of the file runs at once on these ten connections: on a busy machine a unit may
  // wait for one longer than the server's default ten seconds (a wait is not retried).
  const subject = await openPostgres({ pool: { max: 10, acquireTimeoutMs: 60_000 } });
  return { uow: subject.database.uow, close: () => subject.close() };
});
