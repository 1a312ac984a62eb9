import { AsyncLocalStorage } from 'node:async_hooks';
import { isUuid } from '@shipyard/core';

/**
 * The second wall of tenant isolation: every pooled connection carries, before any statement of
 * a unit of work runs on it, the unit's tenant in the session setting `app.tenant_id`, which the
 * row-level security policies of every tenant table compare with (see the migration
 * `Migration20261202180000_row_level_security`), and runs as the database's application role
 * (`<database>_app`), which owns no table and cannot bypass those policies.
 *
 * The tenant is known from the async context (`withTenant`): `MikroOrmUnitOfWork.run` enters its
 * tenant, `platform` enters none (`''`: every tenant row is hidden; platform queries go through
 * the migration's SECURITY DEFINER functions), a platform unit's `inTenant(id)` repositories enter
 * `id`, and the log store enters the tenant it is called for. Each connection remembers what it
 * was last given, so the setting costs one statement only when a connection changes tenant.
 *
 * Why a session setting and not `set_config(…, true)` inside each transaction: a unit that only
 * reads opens no transaction, and its reads may use two pooled connections at once. The setting
 * is set when a connection is taken from the pool, before the unit's first statement on it (a
 * transaction takes its connection before its BEGIN), so it is never stale for the unit using
 * the connection. Inside a transaction a platform unit's switch to another tenant is made with
 * `set_config(…, true)`, which the transaction's end undoes, back to what the connection remembers.
 */
const tenantContext = new AsyncLocalStorage<string>();

/** The setting and the role every connection should have in the current async context. */
interface Wanted {
  tenant: string;
  /** false inside `asOwner`: migrations run as the connection's own user. */
  appRole: boolean;
}

const OWNER = '\u0000owner';

/** `work` with `tenantId` as the tenant of the connections it takes ('' for none). */
export function withTenant<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  return tenantContext.run(settingOf(tenantId), work);
}

/** `work` as the connection's own user (the tables' owner): for migrations only. */
export function asOwner<T>(work: () => Promise<T>): Promise<T> {
  return tenantContext.run(OWNER, work);
}

/** The tenant of the current async context, as it is set on connections. */
export function currentTenantSetting(): string {
  const value = tenantContext.getStore();
  return value === undefined || value === OWNER ? '' : value;
}

/** A tenant id as the setting holds it: lower-case UUID, or '' (matches no row) for anything else. */
export function settingOf(tenantId: string): string {
  return isUuid(tenantId) ? tenantId.toLowerCase() : '';
}

function wanted(): Wanted {
  const value = tenantContext.getStore();
  if (value === OWNER) return { tenant: '', appRole: false };
  return { tenant: value ?? '', appRole: true };
}

/** The knex client's part used here (PostgreSQL's and PGlite's dialects both have it). */
interface KnexClient {
  acquireConnection(): Promise<object>;
  releaseConnection(connection: object): Promise<unknown>;
  _query(
    connection: object,
    query: { sql: string; bindings: unknown[]; method: string },
  ): Promise<{ response: { rows: Row[] } }>;
}

type Row = Record<string, unknown>;

/** What a connection was last given. `role`: whether it runs as the application role now. */
interface ConnectionState {
  tenant: string;
  role: boolean;
}

const STATE = Symbol('shipyard.session');

/** Raised when the connection's user may not take the application role. */
export class ApplicationRoleError extends Error {
  override readonly name = 'ApplicationRoleError';
  /** Kept when the ORM wraps the error (it copies own properties). */
  readonly code = APPLICATION_ROLE_REFUSED;
}

export const APPLICATION_ROLE_REFUSED = 'SHIPYARD_APPLICATION_ROLE';

/**
 * Makes every connection `client` hands out carry the current context's tenant and role (see
 * the module's comment). Before the migration that creates the application role has run, the
 * connection keeps its own user, and trying again costs one statement per checkout until then.
 */
export function installTenantSessions(client: KnexClient): void {
  if ((client as { [STATE]?: true })[STATE]) return;
  (client as { [STATE]?: true })[STATE] = true;
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = async () => {
    const want = wanted();
    const connection = await acquire();
    const state = (connection as { [STATE]?: ConnectionState })[STATE];
    if (state !== undefined && state.tenant === want.tenant && state.role === want.appRole) return connection;
    try {
      (connection as { [STATE]?: ConnectionState })[STATE] = await apply(client, connection, want, state);
      return connection;
    } catch (error) {
      // Not knowing what the connection holds now, forget it: the next checkout sets both again.
      (connection as { [STATE]?: ConnectionState })[STATE] = undefined;
      await client.releaseConnection(connection).catch(() => undefined);
      throw error;
    }
  };
}

async function apply(
  client: KnexClient,
  connection: object,
  want: Wanted,
  state: ConnectionState | undefined,
): Promise<ConnectionState> {
  if (!want.appRole) {
    // A migration: its own user, and no tenant.
    await client._query(connection, {
      sql: `select set_config('role', 'none', false), set_config('app.tenant_id', '', false)`,
      bindings: [],
      method: 'raw',
    });
    return { tenant: '', role: false };
  }
  if (state?.role === true) {
    await client._query(connection, {
      sql: `select set_config('app.tenant_id', $1, false)`,
      bindings: [want.tenant],
      method: 'raw',
    });
    return { tenant: want.tenant, role: true };
  }
  // The application role is `<database>_app`, once the migration has made it.
  const { response } = await client._query(connection, {
    sql: `select set_config('app.tenant_id', $1, false) as "tenant", r.rolname as "role", pg_has_role(session_user, r.oid, 'MEMBER') as "member", session_user as "user" from (select 1) as one left join pg_roles as r on r.rolname = current_database() || '_app'`,
    bindings: [want.tenant],
    method: 'raw',
  });
  const row = response.rows[0] ?? {};
  if (typeof row.role !== 'string') return { tenant: want.tenant, role: false };
  if (row.member !== true) {
    throw new ApplicationRoleError(
      `the database user ${String(row.user)} may not take the application role ${row.role}: GRANT "${row.role}" TO "${String(row.user)}", or connect as a member of it`,
    );
  }
  // JIT off: the policies' subqueries inflate the planner's cost estimates past the JIT threshold,
  // and compiling (≈ 15 ms) would then cost more than the few milliseconds the query takes.
  await client._query(connection, {
    sql: `select set_config('role', $1, false), set_config('jit', 'off', false)`,
    bindings: [row.role],
    method: 'raw',
  });
  return { tenant: want.tenant, role: true };
}
