import { Migration } from '@mikro-orm/migrations';

/**
 * The append-only audit trail (`audit_events`): one row per state change, written in the
 * change's transaction; indexes for the tenant's newest-first list and its filters (actor,
 * action, target), and one on `occurred_at` alone for the platform-wide retention delete.
 * Checked against the mappings by the schema test.
 */
export class Migration20261202120000_audit_events extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_events" ("id" uuid not null, "tenant_id" uuid not null, "occurred_at" timestamptz not null, "actor_type" text check ("actor_type" in ('user', 'system')) not null, "actor_id" uuid null, "session_id" uuid null, "ip" text null, "action" text not null, "target_type" text not null, "target_id" uuid not null, "summary" jsonb not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "audit_events_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "audit_events_tenant_id_occurred_at_index" on "audit_events" ("tenant_id", "occurred_at");`,
    );
    this.addSql(
      `create index "audit_events_tenant_id_actor_id_occurred_at_index" on "audit_events" ("tenant_id", "actor_id", "occurred_at");`,
    );
    this.addSql(
      `create index "audit_events_tenant_id_action_occurred_at_index" on "audit_events" ("tenant_id", "action", "occurred_at");`,
    );
    this.addSql(
      `create index "audit_events_tenant_id_target_type_target_id_occurred_at_index" on "audit_events" ("tenant_id", "target_type", "target_id", "occurred_at");`,
    );
    this.addSql(`create index "audit_events_occurred_at_index" on "audit_events" ("occurred_at");`);
    this.addSql(
      `alter table "audit_events" add constraint "audit_events_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_events" cascade;`);
  }
}
