import { Migration } from '@mikro-orm/migrations';

/**
 * A real runtime: builds keep the artifact their deployments receive, services their health
 * check path and their repository credentials (ciphertext), and build and deployment output is
 * kept in bounded chunks (`log_chunks`, the `LogStore`), readable while it is written. Checked
 * by hand.
 */
export class Migration20261202060000_runtime extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "builds" add column "artifact" jsonb null;`);
    this.addSql(
      `alter table "services" add column "health_check_path" text null, add column "repo_credentials" text null;`,
    );

    this.addSql(
      `create table "log_chunks" ("id" bigserial primary key, "tenant_id" uuid not null, "subject_kind" text check ("subject_kind" in ('build', 'deployment')) not null, "subject_id" uuid not null, "body" text not null, "line_count" int not null, "created_at" timestamptz not null default now());`,
    );
    this.addSql(
      `create index "log_chunks_tenant_id_subject_kind_subject_id_id_index" on "log_chunks" ("tenant_id", "subject_kind", "subject_id", "id");`,
    );
    this.addSql(`create index "log_chunks_created_at_index" on "log_chunks" ("created_at");`);
    this.addSql(
      `alter table "log_chunks" add constraint "log_chunks_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "log_chunks" cascade;`);
    this.addSql(`alter table "services" drop column "health_check_path", drop column "repo_credentials";`);
    this.addSql(`alter table "builds" drop column "artifact";`);
  }
}
