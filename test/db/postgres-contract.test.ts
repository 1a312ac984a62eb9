import { repositoryContracts } from '../contracts/repository.contract.js';
import { openPostgres } from './helpers.js';

repositoryContracts('postgres', async () => {
  const subject = await openPostgres({ pool: { max: 10 } });
  return { uow: subject.database.uow, close: () => subject.close() };
});
