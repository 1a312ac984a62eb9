import type { AuditEvent } from './audit-event.entity.js';
import type { Build } from './build.entity.js';
import type { Deployment } from './deployment.entity.js';
import type { OAuthAccount } from './oauth-account.entity.js';
import type { OutboxMessage } from './outbox-message.entity.js';
import type { Project } from './project.entity.js';
import type { RefreshToken } from './refresh-token.entity.js';
import type { Service } from './service.entity.js';
import type { Team } from './team.entity.js';
import type { TeamMember } from './team-member.entity.js';
import type { Tenant } from './tenant.entity.js';
import type { User } from './user.entity.js';

/** Every stored entity by name: the nine of the domain plus the refresh tokens, the outbox and the audit trail. */
export interface EntityTypes {
  tenant: Tenant;
  user: User;
  oauthAccount: OAuthAccount;
  team: Team;
  teamMember: TeamMember;
  project: Project;
  service: Service;
  build: Build;
  deployment: Deployment;
  refreshToken: RefreshToken;
  outboxMessage: OutboxMessage;
  auditEvent: AuditEvent;
}
export type EntityName = keyof EntityTypes;

export interface ForeignKey {
  field: string;
  references: EntityName;
  /** What deleting the referenced row does to this one. */
  onDelete: 'cascade' | 'set null';
}

export interface UniqueKey {
  /** Reported as the conflicting field when the key is violated. */
  name: string;
  fields: readonly string[];
}

export interface EntityModel {
  foreignKeys: readonly ForeignKey[];
  uniques: readonly UniqueKey[];
}

const cascade = (field: string, references: EntityName): ForeignKey => ({ field, references, onDelete: 'cascade' });

/**
 * The relational shape every store must keep: foreign keys with their delete rule, and unique
 * keys. The database adapter maps it to constraints (its tables are its own); the in-memory
 * store enforces it.
 */
export const MODEL: Readonly<Record<EntityName, EntityModel>> = {
  tenant: { foreignKeys: [], uniques: [{ name: 'slug', fields: ['slug'] }] },
  user: {
    foreignKeys: [cascade('tenantId', 'tenant')],
    uniques: [{ name: 'email', fields: ['email'] }],
  },
  oauthAccount: {
    foreignKeys: [cascade('userId', 'user')],
    uniques: [
      { name: 'provider_account_id', fields: ['provider', 'providerAccountId'] },
      { name: 'provider', fields: ['userId', 'provider'] },
    ],
  },
  team: { foreignKeys: [cascade('ownerId', 'user')], uniques: [] },
  teamMember: {
    foreignKeys: [cascade('teamId', 'team'), cascade('userId', 'user')],
    uniques: [{ name: 'user_id', fields: ['teamId', 'userId'] }],
  },
  project: {
    foreignKeys: [cascade('tenantId', 'tenant'), { field: 'teamId', references: 'team', onDelete: 'set null' }],
    uniques: [],
  },
  service: {
    foreignKeys: [cascade('projectId', 'project')],
    uniques: [{ name: 'name', fields: ['projectId', 'name'] }],
  },
  build: { foreignKeys: [cascade('serviceId', 'service')], uniques: [] },
  deployment: {
    foreignKeys: [cascade('serviceId', 'service'), cascade('buildId', 'build')],
    uniques: [],
  },
  refreshToken: {
    foreignKeys: [cascade('tenantId', 'tenant'), cascade('userId', 'user')],
    uniques: [],
  },
  outboxMessage: { foreignKeys: [cascade('tenantId', 'tenant')], uniques: [] },
  // Only the tenant: the actor and the target may be deleted later, their events stay.
  auditEvent: { foreignKeys: [cascade('tenantId', 'tenant')], uniques: [] },
};

/** A relation that repositories can load with a row (eager loading). */
export interface RelationModel {
  kind: 'one' | 'many';
  entity: EntityName;
  /** `one`: the foreign key on this row; `many`: the foreign key on the related rows. */
  field: string;
}

/** Loadable relations per entity; their names are the `include` values of `QUERY_RULES`. */
export const RELATIONS: Readonly<Partial<Record<EntityName, Readonly<Record<string, RelationModel>>>>> = {
  team: { members: { kind: 'many', entity: 'teamMember', field: 'teamId' } },
  service: { project: { kind: 'one', entity: 'project', field: 'projectId' } },
  build: { service: { kind: 'one', entity: 'service', field: 'serviceId' } },
  deployment: { build: { kind: 'one', entity: 'build', field: 'buildId' } },
};

/** Human names for messages (`Project not found`). */
export const ENTITY_LABELS: Readonly<Record<EntityName, string>> = {
  tenant: 'Tenant',
  user: 'User',
  oauthAccount: 'OAuth account',
  team: 'Team',
  teamMember: 'Team member',
  project: 'Project',
  service: 'Service',
  build: 'Build',
  deployment: 'Deployment',
  refreshToken: 'Refresh token',
  outboxMessage: 'Job',
  auditEvent: 'Audit event',
};
