import type { EntityName } from '@shipyard/core';

/** The SQL table of each core entity (the core knows entities by name, not by table). */
export const TABLES: Readonly<Record<EntityName, string>> = {
  tenant: 'tenants',
  user: 'users',
  oauthAccount: 'oauth_accounts',
  team: 'teams',
  teamMember: 'team_members',
  project: 'projects',
  service: 'services',
  build: 'builds',
  deployment: 'deployments',
  refreshToken: 'refresh_tokens',
  outboxMessage: 'outbox_messages',
  auditEvent: 'audit_events',
};
