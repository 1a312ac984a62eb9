import { randomUUID } from 'node:crypto';
import { InMemoryLogStore, InMemoryUnitOfWork } from '@shipyard/core/testing';
import { logStoreContract } from './log-store.contract.js';
import { repositoryContracts } from './repository.contract.js';

repositoryContracts('in-memory', async () => ({ uow: new InMemoryUnitOfWork() }));
logStoreContract('in-memory', async () => ({ store: new InMemoryLogStore(), newTenant: async () => randomUUID() }));
