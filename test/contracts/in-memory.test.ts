import { InMemoryUnitOfWork } from '@shipyard/core/testing';
import { repositoryContracts } from './repository.contract.js';

repositoryContracts('in-memory', async () => ({ uow: new InMemoryUnitOfWork() }));
