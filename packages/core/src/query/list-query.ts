import { type FieldIssue, ValidationError } from '../domain/app.errors.js';
import { AUDIT_ACTIONS, AUDIT_ACTOR_TYPES, AUDIT_TARGET_TYPES } from '../domain/audit-event.entity.js';
import { BUILD_STATUSES } from '../domain/build.entity.js';
import { DEPLOYMENT_STATUSES } from '../domain/deployment.entity.js';
import { JOB_NAMES, QUEUES } from '../domain/job.types.js';
import { type EntityName, RELATIONS } from '../domain/model.js';
import { OAUTH_PROVIDERS } from '../domain/oauth-account.entity.js';
import { JOB_STATES } from '../domain/outbox-message.entity.js';
import { ROLES } from '../domain/role.js';
import { SERVICE_STATUSES } from '../domain/service.entity.js';
import { TEAM_ROLES } from '../domain/team-member.entity.js';
import { isUuid } from '../domain/validate.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export type SortOrder = 'asc' | 'desc';
export type FilterScalar = string | number | boolean;
/** Column → accepted values (one value is equality, several are IN). */
export type Filters = Record<string, readonly FilterScalar[]>;

/** A checked list request: what every repository's `list` takes. */
export interface ListQuery {
  skip: number;
  limit: number;
  sortBy: string;
  sortOrder: SortOrder;
  filters: Filters;
  /** Relations to load with each row (eager loading), from the entity's allow-list. */
  include: readonly string[];
}

/** A list request as a caller gives it: strings from a query string or typed values. */
export interface ListQueryInput {
  skip?: unknown;
  limit?: unknown;
  sortBy?: unknown;
  sortOrder?: unknown;
  filters?: Record<string, unknown>;
  include?: unknown;
}

export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

type FilterType = 'string' | 'uuid' | 'boolean' | readonly string[];

export interface QueryRules {
  sortable: readonly string[];
  filterable: Readonly<Record<string, FilterType>>;
  relations: readonly string[];
}

const TIMESTAMPS = ['createdAt', 'updatedAt'] as const;

/** Allow-lists per entity: which columns sort, which filter (with their type), which relations load. */
export const QUERY_RULES: Readonly<Record<EntityName, QueryRules>> = {
  tenant: { sortable: [...TIMESTAMPS, 'name', 'slug'], filterable: { slug: 'string' }, relations: [] },
  user: {
    sortable: [...TIMESTAMPS, 'email', 'fullName', 'role', 'lastLoginAt'],
    filterable: { role: ROLES, isActive: 'boolean', email: 'string' },
    relations: [],
  },
  oauthAccount: {
    sortable: [...TIMESTAMPS, 'provider', 'login'],
    filterable: { userId: 'uuid', provider: OAUTH_PROVIDERS },
    relations: [],
  },
  team: {
    sortable: [...TIMESTAMPS, 'name'],
    filterable: { ownerId: 'uuid', name: 'string' },
    relations: Object.keys(RELATIONS.team ?? {}),
  },
  teamMember: {
    sortable: [...TIMESTAMPS, 'role'],
    filterable: { teamId: 'uuid', userId: 'uuid', role: TEAM_ROLES },
    relations: [],
  },
  project: { sortable: [...TIMESTAMPS, 'name'], filterable: { teamId: 'uuid', name: 'string' }, relations: [] },
  service: {
    sortable: [...TIMESTAMPS, 'name', 'status'],
    filterable: {
      projectId: 'uuid',
      status: SERVICE_STATUSES,
      autoDeploy: 'boolean',
      branch: 'string',
      name: 'string',
    },
    relations: Object.keys(RELATIONS.service ?? {}),
  },
  build: {
    sortable: [...TIMESTAMPS, 'status', 'startedAt', 'finishedAt', 'attempt'],
    filterable: { serviceId: 'uuid', status: BUILD_STATUSES, branch: 'string', commitSha: 'string' },
    relations: Object.keys(RELATIONS.build ?? {}),
  },
  deployment: {
    sortable: [...TIMESTAMPS, 'status', 'startedAt', 'finishedAt'],
    filterable: { serviceId: 'uuid', buildId: 'uuid', status: DEPLOYMENT_STATUSES },
    relations: Object.keys(RELATIONS.deployment ?? {}),
  },
  refreshToken: {
    sortable: [...TIMESTAMPS, 'expiresAt'],
    filterable: { userId: 'uuid', familyId: 'uuid' },
    relations: [],
  },
  outboxMessage: {
    sortable: [...TIMESTAMPS, 'availableAt', 'failedAt'],
    filterable: { queue: QUEUES, name: JOB_NAMES, state: JOB_STATES },
    relations: [],
  },
  auditEvent: {
    sortable: ['occurredAt', 'createdAt'],
    filterable: {
      actorId: 'uuid',
      actorType: AUDIT_ACTOR_TYPES,
      action: AUDIT_ACTIONS,
      targetType: AUDIT_TARGET_TYPES,
      targetId: 'uuid',
    },
    relations: [],
  },
};

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function coerceFilter(type: FilterType, value: unknown): FilterScalar | undefined {
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true') return true;
    if (value === 'false') return false;
    return undefined;
  }
  if (typeof value !== 'string' || value.length > 500) return undefined;
  if (type === 'uuid') return isUuid(value) ? value.toLowerCase() : undefined;
  if (type === 'string') return value;
  return type.includes(value) ? value : undefined;
}

const describe = (type: FilterType): string =>
  type === 'string'
    ? 'a string'
    : type === 'uuid'
      ? 'a UUID'
      : type === 'boolean'
        ? 'true or false'
        : `one of ${type.join(', ')}`;

/** Checks filters against the entity's allow-list; each value list becomes an IN. */
export function parseFilters(entity: EntityName, raw: Record<string, unknown> | undefined): Filters {
  const rules = QUERY_RULES[entity];
  const filters: Record<string, FilterScalar[]> = {};
  const issues: FieldIssue[] = [];
  for (const [column, given] of Object.entries(raw ?? {})) {
    if (given === undefined) continue;
    const type = Object.hasOwn(rules.filterable, column) ? rules.filterable[column] : undefined;
    if (type === undefined) {
      issues.push({ field: column, message: 'is not a filterable column' });
      continue;
    }
    const values = Array.isArray(given) ? given : [given];
    if (values.length === 0 || values.length > 100) {
      issues.push({ field: column, message: 'must have 1 to 100 values' });
      continue;
    }
    const parsed: FilterScalar[] = [];
    for (const value of values) {
      const coerced = coerceFilter(type, value);
      if (coerced === undefined) issues.push({ field: column, message: `must be ${describe(type)}` });
      else if (!parsed.includes(coerced)) parsed.push(coerced);
    }
    filters[column] = parsed;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return filters;
}

/**
 * Checks a list request for an entity: pagination (skip ≥ 0, limit 1..1000, default 100),
 * sorting (allow-listed columns, default `createdAt desc`), filters and eager-load names.
 * Every problem is a `ValidationError` naming its field.
 */
export function parseListQuery(entity: EntityName, input: ListQueryInput = {}): ListQuery {
  const rules = QUERY_RULES[entity];
  const issues: FieldIssue[] = [];

  const skip = input.skip === undefined ? 0 : toInteger(input.skip);
  if (skip === undefined || skip < 0 || skip > Number.MAX_SAFE_INTEGER) {
    issues.push({ field: 'skip', message: 'must be an integer of 0 or more' });
  }
  const limit = input.limit === undefined ? DEFAULT_LIMIT : toInteger(input.limit);
  if (limit === undefined || limit < 1 || limit > MAX_LIMIT) {
    issues.push({ field: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` });
  }
  const sortBy = input.sortBy === undefined ? 'createdAt' : input.sortBy;
  if (typeof sortBy !== 'string' || !rules.sortable.includes(sortBy)) {
    issues.push({ field: 'sortBy', message: `must be one of ${rules.sortable.join(', ')}` });
  }
  const sortOrder = input.sortOrder === undefined ? 'desc' : input.sortOrder;
  if (sortOrder !== 'asc' && sortOrder !== 'desc') {
    issues.push({ field: 'sortOrder', message: 'must be asc or desc' });
  }
  const includeRaw = input.include === undefined ? [] : input.include;
  const include = Array.isArray(includeRaw) ? includeRaw : [includeRaw];
  for (const name of include) {
    if (typeof name !== 'string' || !rules.relations.includes(name)) {
      issues.push({
        field: 'include',
        message:
          rules.relations.length > 0
            ? `must be among ${rules.relations.join(', ')}`
            : 'no relations can be loaded here',
      });
    }
  }
  let filters: Filters = {};
  try {
    filters = parseFilters(entity, input.filters);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues.push(...error.details);
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    skip: skip as number,
    limit: limit as number,
    sortBy: sortBy as string,
    sortOrder: sortOrder as SortOrder,
    filters,
    include: [...new Set(include as string[])],
  };
}

/**
 * Re-checks a `ListQuery` built by hand (not by `parseListQuery`): repositories call it so that
 * no caller can sort or filter by a column outside the allow-list, or page past the limits.
 */
export function assertListQuery(entity: EntityName, query: ListQuery): void {
  parseListQuery(entity, {
    skip: query.skip,
    limit: query.limit,
    sortBy: query.sortBy,
    sortOrder: query.sortOrder,
    filters: query.filters as Record<string, unknown>,
    include: [...query.include],
  });
}

/** Checks eager-load names for a single-row read. */
export function parseInclude(entity: EntityName, include: readonly string[] | undefined): readonly string[] {
  if (include === undefined || include.length === 0) return [];
  return parseListQuery(entity, { include: [...include] }).include;
}
