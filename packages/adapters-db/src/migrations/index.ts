import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127065500_initial } from './Migration20261127065500_initial.js';
import { Migration20261201230000_job_leases } from './Migration20261201230000_job_leases.js';
import { Migration20261202060000_runtime } from './Migration20261202060000_runtime.js';
import { Migration20261202120000_audit_events } from './Migration20261202120000_audit_events.js';
import { Migration20261202180000_row_level_security } from './Migration20261202180000_row_level_security.js';
import { Migration20261203090000_account_security } from './Migration20261203090000_account_security.js';

/** Every migration, oldest first. `migrate:create` adds new ones here. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261127065500_initial', class: Migration20261127065500_initial },
  { name: 'Migration20261201230000_job_leases', class: Migration20261201230000_job_leases },
  { name: 'Migration20261202060000_runtime', class: Migration20261202060000_runtime },
  { name: 'Migration20261202120000_audit_events', class: Migration20261202120000_audit_events },
  { name: 'Migration20261202180000_row_level_security', class: Migration20261202180000_row_level_security },
  { name: 'Migration20261203090000_account_security', class: Migration20261203090000_account_security },
];
