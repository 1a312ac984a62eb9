import type { EntitySchema } from '@mikro-orm/core';
import type { EntityName } from '@shipyard/core';
import { AuditEventSchema } from './audit-event.schema.js';
import { BuildSchema } from './build.schema.js';
import { DeploymentSchema } from './deployment.schema.js';
import { LogChunkSchema } from './log-chunk.schema.js';
import { OAuthAccountSchema } from './oauth-account.schema.js';
import { OutboxMessageSchema } from './outbox-message.schema.js';
import { ProjectSchema } from './project.schema.js';
import { RefreshTokenSchema } from './refresh-token.schema.js';
import { ServiceSchema } from './service.schema.js';
import { TeamSchema } from './team.schema.js';
import { TeamMemberSchema } from './team-member.schema.js';
import { TenantSchema } from './tenant.schema.js';
import { UserSchema } from './user.schema.js';

/** The mapping of every stored entity, by the core's entity name. */
export const SCHEMAS: { readonly [N in EntityName]: EntitySchema } = {
  tenant: TenantSchema,
  user: UserSchema,
  oauthAccount: OAuthAccountSchema,
  team: TeamSchema,
  teamMember: TeamMemberSchema,
  project: ProjectSchema,
  service: ServiceSchema,
  build: BuildSchema,
  deployment: DeploymentSchema,
  refreshToken: RefreshTokenSchema,
  outboxMessage: OutboxMessageSchema,
  auditEvent: AuditEventSchema,
};

/** Tables of this adapter that are no core entity. */
export const ADAPTER_SCHEMAS: readonly EntitySchema[] = [LogChunkSchema as unknown as EntitySchema];

export { ENTITY_CLASSES } from './define-schema.js';
export { LOG_SUBJECT_KINDS, LogChunkRow, LogChunkSchema } from './log-chunk.schema.js';
