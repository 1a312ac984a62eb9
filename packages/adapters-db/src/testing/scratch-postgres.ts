import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';

export interface ScratchPostgresOptions {
  /** A database of the server to connect to for creating and dropping (default: `postgres` on 127.0.0.1:5432). */
  adminUrl?: string;
  /** Start of the database name (lowercase letters, digits, underscores). */
  prefix?: string;
}

export interface ScratchPostgres {
  /** Connection URL of the new, empty database. */
  readonly url: string;
  readonly name: string;
  /** Ends every server session connected to this database (as a server restart would); returns how many. */
  terminateConnections(): Promise<number>;
  /** Drops the database (ending its sessions first) and closes the admin connection. */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty database with a unique name on a PostgreSQL server. */
export async function createScratchPostgres(options: ScratchPostgresOptions = {}): Promise<ScratchPostgres> {
  const adminUrl = options.adminUrl ?? process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
  const prefix = (options.prefix ?? 'shipyard_test').replace(/[^a-z0-9_]/g, '_');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await MikroORM.init({
    clientUrl: adminUrl,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: 1 },
    ensureDatabase: false,
  });
  const connection = admin.em.getConnection();
  await connection.execute(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sessions = async (): Promise<number> => {
    const rows = await connection.execute<{ count: string }[]>(
      'select count(*) as count from pg_stat_activity where datname = ? and pid <> pg_backend_pid()',
      [name],
    );
    return Number(rows[0]?.count ?? 0);
  };
  const terminateConnections = async (): Promise<number> => {
    const rows = await connection.execute<{ pid: number }[]>(
      'select pg_terminate_backend(pid) as pid from pg_stat_activity where datname = ? and pid <> pg_backend_pid()',
      [name],
    );
    // pg_terminate_backend only signals: wait until the sessions are gone, as after a restart.
    for (let waited = 0; waited < 5000 && (await sessions()) > 0; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return rows.length;
  };
  return {
    url: url.toString(),
    name,
    terminateConnections,
    async drop() {
      try {
        await connection.execute(`drop database if exists "${name}" with (force)`);
        // The migrations' application role (roles belong to the server, not to the database).
        await connection.execute(`drop role if exists "${name}_app"`);
      } finally {
        await admin.close(true);
      }
    },
  };
}
