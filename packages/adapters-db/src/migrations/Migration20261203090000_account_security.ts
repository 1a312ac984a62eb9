import { Migration } from '@mikro-orm/migrations';

/**
 * Account security: users record when their address was verified, carry a session epoch (moved
 * on to end every session at once) and at most one pending emailed link (its purpose, the
 * digest of its secret, its expiry); refresh tokens record when their session began, so a
 * refresh never carries a session past its maximum age. Existing families keep the time their
 * oldest token was issued. Checked against the mappings by the schema test.
 */
export class Migration20261203090000_account_security extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "users" add column "email_verified_at" timestamptz null, add column "session_epoch" int not null default 0, add column "email_link_purpose" text check ("email_link_purpose" in ('verify_email', 'reset_password', 'invitation')) null, add column "email_link_digest" text null, add column "email_link_expires_at" timestamptz null;`,
    );
    this.addSql(`alter table "users" alter column "session_epoch" drop default;`);
    this.addSql(`alter table "refresh_tokens" add column "session_started_at" timestamptz null;`);
    this.addSql(
      `update "refresh_tokens" as "r" set "session_started_at" = (select min("f"."created_at") from "refresh_tokens" as "f" where "f"."family_id" = "r"."family_id");`,
    );
    this.addSql(`alter table "refresh_tokens" alter column "session_started_at" set not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "refresh_tokens" drop column "session_started_at";`);
    this.addSql(
      `alter table "users" drop column "email_verified_at", drop column "session_epoch", drop column "email_link_purpose", drop column "email_link_digest", drop column "email_link_expires_at";`,
    );
  }
}
