import { Migration } from '@mikro-orm/migrations';

export class Migration20261127065500_initial extends Migration {
  override async up(): Promise<void> {
    // Checked by hand. Sortable text columns use the "C" collation: lists sort by code point, as the
    // in-memory store does, whatever the server's default locale.
    this.addSql(
      `create table "tenants" ("id" uuid not null, "name" text collate "C" not null, "slug" text collate "C" not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "tenants_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "tenants" add constraint "tenants_slug_unique" unique ("slug");`);

    this.addSql(
      `create table "outbox_messages" ("id" uuid not null, "tenant_id" uuid not null, "queue" text check ("queue" in ('deployment', 'build', 'cleanup', 'default')) not null, "name" text not null, "payload" jsonb not null, "available_at" timestamptz not null, "sent_at" timestamptz null, "publish_attempts" int not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "outbox_messages_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "outbox_messages_sent_at_available_at_index" on "outbox_messages" ("sent_at", "available_at");`,
    );
    this.addSql(
      `create index "outbox_messages_tenant_id_created_at_index" on "outbox_messages" ("tenant_id", "created_at");`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "tenant_id" uuid not null, "email" text collate "C" not null, "full_name" text collate "C" null, "role" text collate "C" check ("role" in ('viewer', 'member', 'admin', 'owner')) not null, "is_active" boolean not null, "password_hash" text null, "last_login_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "users_tenant_id_created_at_index" on "users" ("tenant_id", "created_at");`);
    this.addSql(`create unique index "users_email_unique" on "users" (lower("email"));`);

    this.addSql(
      `create table "teams" ("id" uuid not null, "owner_id" uuid not null, "name" text collate "C" not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "teams_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "teams_owner_id_created_at_index" on "teams" ("owner_id", "created_at");`);

    this.addSql(
      `create table "team_members" ("id" uuid not null, "team_id" uuid not null, "user_id" uuid not null, "role" text collate "C" check ("role" in ('maintainer', 'member')) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "team_members_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "team_members_user_id_index" on "team_members" ("user_id");`);
    this.addSql(
      `alter table "team_members" add constraint "team_members_user_id_unique" unique ("team_id", "user_id");`,
    );

    this.addSql(
      `create table "projects" ("id" uuid not null, "tenant_id" uuid not null, "team_id" uuid null, "name" text collate "C" not null, "description" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "projects_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "projects_tenant_id_created_at_index" on "projects" ("tenant_id", "created_at");`);
    this.addSql(`create index "projects_team_id_index" on "projects" ("team_id");`);

    this.addSql(
      `create table "services" ("id" uuid not null, "project_id" uuid not null, "name" text collate "C" not null, "repo_url" text not null, "branch" text not null, "build_command" text null, "start_command" text null, "port" int null, "auto_deploy" boolean not null, "env" jsonb not null, "status" text collate "C" check ("status" in ('idle', 'building', 'deploying', 'live', 'failed')) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "services_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "services_project_id_created_at_index" on "services" ("project_id", "created_at");`);
    this.addSql(`alter table "services" add constraint "services_name_unique" unique ("project_id", "name");`);

    this.addSql(
      `create table "builds" ("id" uuid not null, "service_id" uuid not null, "commit_sha" text null, "branch" text not null, "status" text collate "C" check ("status" in ('queued', 'running', 'succeeded', 'failed', 'cancelled')) not null, "attempt" int not null, "logs" text not null, "error" text null, "started_at" timestamptz null, "finished_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "builds_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "builds_service_id_created_at_index" on "builds" ("service_id", "created_at");`);

    this.addSql(
      `create table "deployments" ("id" uuid not null, "service_id" uuid not null, "build_id" uuid not null, "status" text collate "C" check ("status" in ('pending', 'deploying', 'live', 'failed', 'superseded')) not null, "url" text null, "error" text null, "started_at" timestamptz null, "finished_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "deployments_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "deployments_service_id_created_at_index" on "deployments" ("service_id", "created_at");`,
    );
    this.addSql(`create index "deployments_build_id_index" on "deployments" ("build_id");`);

    this.addSql(
      `create table "refresh_tokens" ("id" uuid not null, "tenant_id" uuid not null, "user_id" uuid not null, "family_id" uuid not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "refresh_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "refresh_tokens_tenant_id_created_at_index" on "refresh_tokens" ("tenant_id", "created_at");`,
    );
    this.addSql(`create index "refresh_tokens_user_id_index" on "refresh_tokens" ("user_id");`);
    this.addSql(`create index "refresh_tokens_family_id_index" on "refresh_tokens" ("family_id");`);

    this.addSql(
      `create table "oauth_accounts" ("id" uuid not null, "user_id" uuid not null, "provider" text collate "C" check ("provider" in ('github')) not null, "provider_account_id" text not null, "login" text collate "C" not null, "access_token" text not null, "scopes" text[] not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1, constraint "oauth_accounts_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_provider_account_id_unique" unique ("provider", "provider_account_id");`,
    );
    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_provider_unique" unique ("user_id", "provider");`,
    );

    this.addSql(
      `alter table "outbox_messages" add constraint "outbox_messages_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "users" add constraint "users_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "teams" add constraint "teams_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "team_members" add constraint "team_members_team_id_foreign" foreign key ("team_id") references "teams" ("id") on update no action on delete cascade;`,
    );
    this.addSql(
      `alter table "team_members" add constraint "team_members_user_id_foreign" foreign key ("user_id") references "users" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "projects" add constraint "projects_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );
    this.addSql(
      `alter table "projects" add constraint "projects_team_id_foreign" foreign key ("team_id") references "teams" ("id") on update no action on delete set null;`,
    );

    this.addSql(
      `alter table "services" add constraint "services_project_id_foreign" foreign key ("project_id") references "projects" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "builds" add constraint "builds_service_id_foreign" foreign key ("service_id") references "services" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "deployments" add constraint "deployments_service_id_foreign" foreign key ("service_id") references "services" ("id") on update no action on delete cascade;`,
    );
    this.addSql(
      `alter table "deployments" add constraint "deployments_build_id_foreign" foreign key ("build_id") references "builds" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update no action on delete cascade;`,
    );
    this.addSql(
      `alter table "refresh_tokens" add constraint "refresh_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update no action on delete cascade;`,
    );

    this.addSql(
      `alter table "oauth_accounts" add constraint "oauth_accounts_user_id_foreign" foreign key ("user_id") references "users" ("id") on update no action on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "outbox_messages" drop constraint "outbox_messages_tenant_id_foreign";`);

    this.addSql(`alter table "users" drop constraint "users_tenant_id_foreign";`);

    this.addSql(`alter table "projects" drop constraint "projects_tenant_id_foreign";`);

    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_tenant_id_foreign";`);

    this.addSql(`alter table "teams" drop constraint "teams_owner_id_foreign";`);

    this.addSql(`alter table "team_members" drop constraint "team_members_user_id_foreign";`);

    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_user_id_foreign";`);

    this.addSql(`alter table "oauth_accounts" drop constraint "oauth_accounts_user_id_foreign";`);

    this.addSql(`alter table "team_members" drop constraint "team_members_team_id_foreign";`);

    this.addSql(`alter table "projects" drop constraint "projects_team_id_foreign";`);

    this.addSql(`alter table "services" drop constraint "services_project_id_foreign";`);

    this.addSql(`alter table "builds" drop constraint "builds_service_id_foreign";`);

    this.addSql(`alter table "deployments" drop constraint "deployments_service_id_foreign";`);

    this.addSql(`alter table "deployments" drop constraint "deployments_build_id_foreign";`);

    this.addSql(`drop table if exists "tenants" cascade;`);

    this.addSql(`drop table if exists "outbox_messages" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "teams" cascade;`);

    this.addSql(`drop table if exists "team_members" cascade;`);

    this.addSql(`drop table if exists "projects" cascade;`);

    this.addSql(`drop table if exists "services" cascade;`);

    this.addSql(`drop table if exists "builds" cascade;`);

    this.addSql(`drop table if exists "deployments" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop table if exists "oauth_accounts" cascade;`);
  }
}
