import { type LogStore, TOKENS, type UnitOfWork } from '@shipyard/core';
import { ContainerModule } from 'inversify';
import { createDatabase, type Database, type DatabaseOptions } from './database.js';

/** Injection token of the `Database` (migrations, health, shutdown). */
export const DATABASE = Symbol.for('shipyard.Database');

const isDatabase = (value: Database | DatabaseOptions): value is Database =>
  typeof (value as Database).migrate === 'function';

/**
 * Binds `DATABASE` and the core's `TOKENS.UnitOfWork` and `TOKENS.LogStore`. Given a `Database`, bindings resolve
 * synchronously; given options, the database is opened on first use (resolve with `getAsync`).
 */
export function dbModule(source: Database | DatabaseOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    if (isDatabase(source)) {
      bind<Database>(DATABASE).toConstantValue(source);
    } else {
      bind<Database>(DATABASE)
        .toDynamicValue(() => createDatabase(source))
        .inSingletonScope()
        .onDeactivation((database) => database.close());
    }
    bind<UnitOfWork>(TOKENS.UnitOfWork)
      .toResolvedValue((database: Database) => database.uow, [DATABASE])
      .inSingletonScope();
    bind<LogStore>(TOKENS.LogStore)
      .toResolvedValue((database: Database) => database.logStore, [DATABASE])
      .inSingletonScope();
  });
}
