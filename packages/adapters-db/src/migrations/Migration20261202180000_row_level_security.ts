import { Migration } from '@mikro-orm/migrations';

/** The tenant of the connection's unit of work (`app.tenant_id`, set by `tenant-session.ts`), or null. */
const CURRENT_TENANT = 'shipyard_current_tenant()';

/**
 * Tables reached through a parent (TENANT_ISOLATION's path) get their tenant's id of their own,
 * denormalised: the policies then compare a column of the row, as cheap on a 10,000-row count as
 * no policy at all (a policy walking parents costs a lookup, or a hash of the tenant's parents,
 * per statement). Filled by the column's default from the connection's tenant, so the ORM never
 * writes it, and checked against the parents by the policies below. In fill order.
 */
const DENORMALISED: readonly { table: string; parent: string; from: string }[] = [
  { table: 'services', parent: 'project_id', from: `"projects" as "p" where "p"."id" = "services"."project_id"` },
  { table: 'builds', parent: 'service_id', from: `"services" as "p" where "p"."id" = "builds"."service_id"` },
  {
    table: 'deployments',
    parent: 'service_id',
    from: `"services" as "p" where "p"."id" = "deployments"."service_id"`,
  },
  { table: 'teams', parent: 'owner_id', from: `"users" as "p" where "p"."id" = "teams"."owner_id"` },
  { table: 'team_members', parent: 'team_id', from: `"teams" as "p" where "p"."id" = "team_members"."team_id"` },
  { table: 'oauth_accounts', parent: 'user_id', from: `"users" as "p" where "p"."id" = "oauth_accounts"."user_id"` },
];

/** A written row's reference must be a row of the same tenant (`offset 0`: one index lookup, not a hash of the tenant). */
const parent = (table: string, column: string, target: string, nullable = false): string => {
  const exists = `exists (select 1 from "${target}" as "r" where "r"."id" = "${table}"."${column}" and "r"."tenant_id" = ${CURRENT_TENANT} offset 0)`;
  return nullable ? `("${table}"."${column}" is null or ${exists})` : exists;
};

/**
 * Who may see and write a row of each tenant table: reads, updates and deletes (`USING`) need the
 * row's tenant to be the connection's; writes (`WITH CHECK`) need that and every reference the
 * row holds to be a row of that tenant too (the repositories check the same first).
 */
export const TENANT_POLICIES: Readonly<Record<string, { using: string; check: string }>> = (() => {
  const own = (table: string) => `"${table}"."tenant_id" = ${CURRENT_TENANT}`;
  const policy = (table: string, ...parents: string[]) => ({
    using: own(table),
    check: [own(table), ...parents].join(' and '),
  });
  return {
    tenants: { using: `"id" = ${CURRENT_TENANT}`, check: `"id" = ${CURRENT_TENANT}` },
    users: policy('users'),
    projects: policy('projects', parent('projects', 'team_id', 'teams', true)),
    refresh_tokens: policy('refresh_tokens', parent('refresh_tokens', 'user_id', 'users')),
    outbox_messages: policy('outbox_messages'),
    log_chunks: policy('log_chunks'),
    audit_events: policy('audit_events'),
    oauth_accounts: policy('oauth_accounts', parent('oauth_accounts', 'user_id', 'users')),
    teams: policy('teams', parent('teams', 'owner_id', 'users')),
    team_members: policy(
      'team_members',
      parent('team_members', 'team_id', 'teams'),
      parent('team_members', 'user_id', 'users'),
    ),
    services: policy('services', parent('services', 'project_id', 'projects')),
    builds: policy('builds', parent('builds', 'service_id', 'services')),
    deployments: policy(
      'deployments',
      parent('deployments', 'service_id', 'services'),
      parent('deployments', 'build_id', 'builds'),
    ),
  };
})();

/**
 * What the platform functions (below, SECURITY DEFINER, run as the migration's user) may do
 * across tenants, as that user's own policies: the application role has none of them.
 */
const PLATFORM_ACCESS: Readonly<Record<string, readonly ('select' | 'update' | 'delete')[]>> = {
  tenants: ['select'],
  users: ['select'],
  oauth_accounts: ['select'],
  builds: ['select'],
  deployments: ['select'],
  outbox_messages: ['select', 'update'],
  log_chunks: ['select', 'delete'],
  audit_events: ['select', 'delete'],
};

/**
 * The named cross-tenant paths, each a SECURITY DEFINER function that answers ids, flags or the
 * few whole rows the platform needs (the relay's messages), never a tenant's data in general.
 * The application role may execute them and nothing else across tenants.
 */
const PLATFORM_FUNCTIONS: readonly { signature: string; body: string }[] = [
  {
    signature: `shipyard_user_by_email(p_email text) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "id", "tenant_id" from "users" where lower("email") = p_email limit 1`,
  },
  {
    signature: `shipyard_tenant_slug_exists(p_slug text) returns boolean language sql stable`,
    body: `select exists (select 1 from "tenants" where "slug" = p_slug)`,
  },
  {
    signature: `shipyard_tenant_ids(p_after uuid, p_limit int) returns setof uuid language sql stable`,
    body: `select "id" from "tenants" where p_after is null or "id" > p_after order by "id" limit p_limit`,
  },
  {
    signature: `shipyard_oauth_account(p_provider text, p_account text) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "id", "tenant_id" from "oauth_accounts" where "provider" = p_provider and "provider_account_id" = p_account`,
  },
  {
    signature: `shipyard_unsettled_builds(p_waiting_before timestamptz, p_lease_ended_before timestamptz, p_limit int) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "id", "tenant_id" from "builds" where ("status" = 'queued' and "updated_at" < p_waiting_before) or ("status" = 'running' and ("lease_until" is null or "lease_until" < p_lease_ended_before)) order by "updated_at" limit p_limit`,
  },
  {
    signature: `shipyard_unsettled_deployments(p_waiting_before timestamptz, p_lease_ended_before timestamptz, p_limit int) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "id", "tenant_id" from "deployments" where ("status" = 'pending' and "updated_at" < p_waiting_before) or ("status" = 'deploying' and ("lease_until" is null or "lease_until" < p_lease_ended_before)) order by "updated_at" limit p_limit`,
  },
  {
    signature: `shipyard_running_deployments(p_limit int) returns table ("id" uuid, "tenant_id" uuid, "status" text) language sql stable`,
    body: `select "id", "tenant_id", "status"::text from "deployments" where "status" in ('live', 'deploying') order by "created_at", "id" limit p_limit`,
  },
  {
    signature: `shipyard_build_artifacts(p_limit int) returns setof jsonb language sql stable`,
    body: `select "artifact" from "builds" where "artifact" is not null limit p_limit`,
  },
  {
    signature: `shipyard_pending_messages(p_now timestamptz, p_limit int) returns setof "outbox_messages" language sql stable`,
    body: `select * from "outbox_messages" where "sent_at" is null and "available_at" <= p_now order by "created_at", "id" limit p_limit`,
  },
  {
    signature: `shipyard_count_pending_messages(p_now timestamptz) returns int language sql stable`,
    body: `select count(*)::int from "outbox_messages" where "sent_at" is null and "available_at" <= p_now`,
  },
  {
    signature: `shipyard_claim_pending_messages(p_now timestamptz, p_limit int) returns setof "outbox_messages" language sql volatile`,
    body: `select * from "outbox_messages" where "sent_at" is null and "available_at" <= p_now order by "created_at", "id" limit p_limit for update skip locked`,
  },
  {
    signature: `shipyard_mark_messages_sent(p_ids uuid[], p_now timestamptz) returns int language sql volatile`,
    body: `with "marked" as (update "outbox_messages" set "sent_at" = p_now, "state" = case when "state" = 'pending' then 'sent' else "state" end, "updated_at" = p_now, "version" = "version" + 1 where "id" = any (p_ids) and "sent_at" is null returning 1) select count(*)::int from "marked"`,
  },
  {
    signature: `shipyard_prune_audit_events(p_before timestamptz, p_limit int) returns int language sql volatile`,
    body: `with "gone" as (delete from "audit_events" where "id" in (select "id" from "audit_events" where "occurred_at" < p_before order by "occurred_at" limit p_limit) returning 1) select count(*)::int from "gone"`,
  },
  {
    signature: `shipyard_prune_log_chunks(p_before timestamptz) returns int language sql volatile`,
    body: `with "gone" as (delete from "log_chunks" where "created_at" < p_before returning 1) select count(*)::int from "gone"`,
  },
];

/** `name(args)` of a function signature, as GRANT and DROP want it. */
const functionName = (signature: string): string => signature.slice(0, signature.indexOf(')') + 1);

/**
 * Row-level security, the second wall of tenant isolation (the first is the repositories'
 * queries): every tenant table has RLS enabled and forced, with a policy keyed on the
 * connection's `app.tenant_id`. The server and workers run as the application role
 * `<database>_app` (NOLOGIN; made here, the connection's user takes it with SET ROLE), which
 * owns nothing, may read and write the tenant tables under those policies, and crosses tenants
 * only through the SECURITY DEFINER functions above. The migration's user (the tables' owner)
 * is subject to the tenant policies too (FORCE), except for the narrow platform access the
 * functions need.
 *
 * A later migration that adds a table grants the application role what it needs and enables
 * and forces RLS on it (`test/db/row-level-security.test.ts` fails for a table without).
 */
export class Migration20261202180000_row_level_security extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create or replace function shipyard_current_tenant() returns uuid language sql stable parallel safe as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;`,
    );
    for (const { table, parent: column, from } of DENORMALISED) {
      this.addSql(`alter table "${table}" add column "tenant_id" uuid null;`);
      this.addSql(`update "${table}" set "tenant_id" = (select "p"."tenant_id" from ${from});`);
      this.addSql(
        `alter table "${table}" alter column "tenant_id" set not null, alter column "tenant_id" set default ${CURRENT_TENANT};`,
      );
      // The parent decides the tenant: without this the planner multiplies the two equalities'
      // selectivities (a list of one service's builds estimated at one row: nested loops, ×5 slower).
      this.addSql(
        `create statistics "${table}_tenant_dependency" (dependencies) on "${column}", "tenant_id" from "${table}";`,
      );
      this.addSql(`analyze "${table}";`);
    }
    for (const [table, { using, check }] of Object.entries(TENANT_POLICIES)) {
      this.addSql(`alter table "${table}" enable row level security;`);
      this.addSql(`alter table "${table}" force row level security;`);
      this.addSql(
        `create policy "${table}_tenant_isolation" on "${table}" for all using (${using}) with check (${check});`,
      );
    }
    for (const [table, commands] of Object.entries(PLATFORM_ACCESS)) {
      for (const command of commands) {
        this.addSql(
          `create policy "${table}_platform_${command}" on "${table}" for ${command} to current_user using (true);`,
        );
      }
    }
    for (const { signature, body } of PLATFORM_FUNCTIONS) {
      this.addSql(
        `create or replace function ${signature} security definer set search_path = pg_catalog, public as $$ ${body} $$;`,
      );
      this.addSql(`revoke all on function ${functionName(signature)} from public;`);
    }
    const tables = Object.keys(TENANT_POLICIES)
      .map((table) => `"${table}"`)
      .join(', ');
    const functions = PLATFORM_FUNCTIONS.map(({ signature }) => functionName(signature)).join(', ');
    this.addSql(
      `do $$
declare app text := current_database() || '_app';
begin
  begin
    execute format('create role %I nologin', app);
  exception when duplicate_object or unique_violation then null;
  end;
  execute format('grant usage on schema public to %I', app);
  execute format('grant select, insert, update, delete on ${tables} to %I', app);
  -- The audit trail is append-only for the server: its retention deletes through a platform function.
  execute format('revoke update, delete, truncate on "audit_events" from %I', app);
  execute format('grant usage, select on all sequences in schema public to %I', app);
  execute format('grant select on "mikro_orm_migrations" to %I', app);
  execute format('grant execute on function shipyard_current_tenant(), ${functions} to %I', app);
  -- The migration's user may also run the server (development): it may take the role.
  begin
    execute format('grant %I to current_user', app);
  exception when others then null;
  end;
end $$;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `do $$ declare app text := current_database() || '_app'; begin execute format('revoke all on all tables in schema public from %I', app); execute format('revoke all on all sequences in schema public from %I', app); execute format('revoke usage on schema public from %I', app); end $$;`,
    );
    for (const { signature } of PLATFORM_FUNCTIONS) this.addSql(`drop function if exists ${functionName(signature)};`);
    for (const [table, commands] of Object.entries(PLATFORM_ACCESS)) {
      for (const command of commands)
        this.addSql(`drop policy if exists "${table}_platform_${command}" on "${table}";`);
    }
    for (const table of Object.keys(TENANT_POLICIES)) {
      this.addSql(`drop policy if exists "${table}_tenant_isolation" on "${table}";`);
      this.addSql(`alter table "${table}" no force row level security;`);
      this.addSql(`alter table "${table}" disable row level security;`);
    }
    for (const { table } of [...DENORMALISED].reverse()) {
      this.addSql(`drop statistics if exists "${table}_tenant_dependency";`);
      this.addSql(`alter table "${table}" drop column "tenant_id";`);
    }
    this.addSql(`drop function if exists shipyard_current_tenant();`);
  }
}
