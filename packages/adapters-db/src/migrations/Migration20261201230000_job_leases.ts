import { Migration } from '@mikro-orm/migrations';

/**
 * Job leases and dead letters: builds and deployments record the job that carries them and until
 * when a worker holds them; deployments count their attempts and can be cancelled; outbox
 * messages keep their state, attempts and last error. Checked by hand.
 */
export class Migration20261201230000_job_leases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "builds" add column "lease_until" timestamptz null, add column "job_id" uuid null;`);
    this.addSql(
      `create index "builds_unsettled_index" on "builds" ("updated_at") where "status" in ('queued', 'running');`,
    );

    this.addSql(
      `alter table "deployments" add column "attempt" int not null default 0, add column "lease_until" timestamptz null, add column "job_id" uuid null;`,
    );
    this.addSql(`alter table "deployments" alter column "attempt" drop default;`);
    this.addSql(`alter table "deployments" drop constraint if exists "deployments_status_check";`);
    this.addSql(
      `alter table "deployments" add constraint "deployments_status_check" check ("status" in ('pending', 'deploying', 'live', 'failed', 'superseded', 'cancelled'));`,
    );
    this.addSql(
      `create index "deployments_unsettled_index" on "deployments" ("updated_at") where "status" in ('pending', 'deploying');`,
    );

    this.addSql(
      `alter table "outbox_messages" add column "state" text check ("state" in ('pending', 'sent', 'failed', 'retried')) not null default 'pending', add column "attempts" int not null default 0, add column "last_error" text null, add column "failed_at" timestamptz null;`,
    );
    this.addSql(`update "outbox_messages" set "state" = 'sent' where "sent_at" is not null;`);
    this.addSql(
      `alter table "outbox_messages" alter column "state" drop default, alter column "attempts" drop default;`,
    );
    this.addSql(`create index "outbox_messages_tenant_id_state_index" on "outbox_messages" ("tenant_id", "state");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "outbox_messages_tenant_id_state_index";`);
    this.addSql(
      `alter table "outbox_messages" drop column "state", drop column "attempts", drop column "last_error", drop column "failed_at";`,
    );
    this.addSql(`drop index if exists "deployments_unsettled_index";`);
    this.addSql(`update "deployments" set "status" = 'failed' where "status" = 'cancelled';`);
    this.addSql(`alter table "deployments" drop constraint if exists "deployments_status_check";`);
    this.addSql(
      `alter table "deployments" add constraint "deployments_status_check" check ("status" in ('pending', 'deploying', 'live', 'failed', 'superseded'));`,
    );
    this.addSql(`alter table "deployments" drop column "attempt", drop column "lease_until", drop column "job_id";`);
    this.addSql(`drop index if exists "builds_unsettled_index";`);
    this.addSql(`alter table "builds" drop column "lease_until", drop column "job_id";`);
  }
}
