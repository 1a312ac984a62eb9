import { Migration } from '@mikro-orm/migrations';

/** The tenant of the connection's unit of work (`app.tenant_id`, set by `tenant-session.ts`), or null. */
const CURRENT_TENANT = 'shipyard_current_tenant()';

/**
 * Who may see and write a row of each tenant table: the row's tenant, directly or through the
 * parent the core's TENANT_ISOLATION names, must be the connection's current tenant. The parent's
 * own policy applies inside the subquery too.
 */
export const TENANT_POLICIES: Readonly<Record<string, string>> = {
  tenants: `"id" = ${CURRENT_TENANT}`,
  users: `"tenant_id" = ${CURRENT_TENANT}`,
  projects: `"tenant_id" = ${CURRENT_TENANT}`,
  refresh_tokens: `"tenant_id" = ${CURRENT_TENANT}`,
  outbox_messages: `"tenant_id" = ${CURRENT_TENANT}`,
  log_chunks: `"tenant_id" = ${CURRENT_TENANT}`,
  oauth_accounts: `exists (select 1 from "users" as "u" where "u"."id" = "oauth_accounts"."user_id" and "u"."tenant_id" = ${CURRENT_TENANT})`,
  teams: `exists (select 1 from "users" as "u" where "u"."id" = "teams"."owner_id" and "u"."tenant_id" = ${CURRENT_TENANT})`,
  team_members: `exists (select 1 from "teams" as "t" join "users" as "u" on "u"."id" = "t"."owner_id" where "t"."id" = "team_members"."team_id" and "u"."tenant_id" = ${CURRENT_TENANT})`,
  services: `exists (select 1 from "projects" as "p" where "p"."id" = "services"."project_id" and "p"."tenant_id" = ${CURRENT_TENANT})`,
  builds: `exists (select 1 from "services" as "s" join "projects" as "p" on "p"."id" = "s"."project_id" where "s"."id" = "builds"."service_id" and "p"."tenant_id" = ${CURRENT_TENANT})`,
  deployments: `exists (select 1 from "services" as "s" join "projects" as "p" on "p"."id" = "s"."project_id" where "s"."id" = "deployments"."service_id" and "p"."tenant_id" = ${CURRENT_TENANT})`,
};

/**
 * What the platform functions (below, SECURITY DEFINER, run as the migration's user) may do
 * across tenants, as that user's own policies: the application role has none of them.
 */
const PLATFORM_ACCESS: Readonly<Record<string, readonly ('select' | 'update' | 'delete')[]>> = {
  tenants: ['select'],
  users: ['select'],
  oauth_accounts: ['select'],
  projects: ['select'],
  services: ['select'],
  builds: ['select'],
  deployments: ['select'],
  outbox_messages: ['select', 'update'],
  log_chunks: ['select', 'delete'],
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
    body: `select "a"."id", "u"."tenant_id" from "oauth_accounts" as "a" join "users" as "u" on "u"."id" = "a"."user_id" where "a"."provider" = p_provider and "a"."provider_account_id" = p_account`,
  },
  {
    signature: `shipyard_unsettled_builds(p_waiting_before timestamptz, p_lease_ended_before timestamptz, p_limit int) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "b"."id", "p"."tenant_id" from "builds" as "b" join "services" as "s" on "s"."id" = "b"."service_id" join "projects" as "p" on "p"."id" = "s"."project_id" where ("b"."status" = 'queued' and "b"."updated_at" < p_waiting_before) or ("b"."status" = 'running' and ("b"."lease_until" is null or "b"."lease_until" < p_lease_ended_before)) order by "b"."updated_at" limit p_limit`,
  },
  {
    signature: `shipyard_unsettled_deployments(p_waiting_before timestamptz, p_lease_ended_before timestamptz, p_limit int) returns table ("id" uuid, "tenant_id" uuid) language sql stable`,
    body: `select "d"."id", "p"."tenant_id" from "deployments" as "d" join "services" as "s" on "s"."id" = "d"."service_id" join "projects" as "p" on "p"."id" = "s"."project_id" where ("d"."status" = 'pending' and "d"."updated_at" < p_waiting_before) or ("d"."status" = 'deploying' and ("d"."lease_until" is null or "d"."lease_until" < p_lease_ended_before)) order by "d"."updated_at" limit p_limit`,
  },
  {
    signature: `shipyard_running_deployments(p_limit int) returns table ("id" uuid, "tenant_id" uuid, "status" text) language sql stable`,
    body: `select "d"."id", "p"."tenant_id", "d"."status"::text from "deployments" as "d" join "services" as "s" on "s"."id" = "d"."service_id" join "projects" as "p" on "p"."id" = "s"."project_id" where "d"."status" in ('live', 'deploying') order by "d"."created_at", "d"."id" limit p_limit`,
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
    signature: `shipyard_claim_pending_messages(p_now timestamptz, p_limit int) returns setof "outbox_messages" language sql volatile`,
    body: `select * from "outbox_messages" where "sent_at" is null and "available_at" <= p_now order by "created_at", "id" limit p_limit for update skip locked`,
  },
  {
    signature: `shipyard_mark_messages_sent(p_ids uuid[], p_now timestamptz) returns int language sql volatile`,
    body: `with "marked" as (update "outbox_messages" set "sent_at" = p_now, "state" = case when "state" = 'pending' then 'sent' else "state" end, "updated_at" = p_now, "version" = "version" + 1 where "id" = any (p_ids) and "sent_at" is null returning 1) select count(*)::int from "marked"`,
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
    for (const [table, condition] of Object.entries(TENANT_POLICIES)) {
      this.addSql(`alter table "${table}" enable row level security;`);
      this.addSql(`alter table "${table}" force row level security;`);
      this.addSql(
        `create policy "${table}_tenant_isolation" on "${table}" for all using (${condition}) with check (${condition});`,
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
    this.addSql(`drop function if exists shipyard_current_tenant();`);
  }
}
