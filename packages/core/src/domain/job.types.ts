import { ValidationError } from './app.errors.js';
import { isUuid } from './validate.js';

/** The four queues of the platform. */
export const QUEUES = ['deployment', 'build', 'cleanup', 'default'] as const;
export type QueueName = (typeof QUEUES)[number];

/** Job payloads as they travel through the queue (snake_case, JSON-safe, always with `tenant_id`). */
export interface JobPayloads {
  'build.run': { tenant_id: string; build_id: string };
  'deployment.run': { tenant_id: string; deployment_id: string };
  'cleanup.run': { tenant_id: string };
  'notification.send': {
    tenant_id: string;
    event: 'build.finished' | 'deployment.finished';
    subject_id: string;
    status: string;
  };
}
export type JobName = keyof JobPayloads;

export const JOB_NAMES = [
  'build.run',
  'deployment.run',
  'cleanup.run',
  'notification.send',
] as const satisfies readonly JobName[];

/** Which queue carries each job. */
export const JOB_QUEUES: Readonly<Record<JobName, QueueName>> = {
  'build.run': 'build',
  'deployment.run': 'deployment',
  'cleanup.run': 'cleanup',
  'notification.send': 'default',
};

export interface Job<N extends JobName = JobName> {
  /** Unique per job; the outbox message id, so a publish repeated after a crash is one job. */
  id: string;
  name: N;
  queue: QueueName;
  payload: JobPayloads[N];
  /** Earliest time to run; omitted means now. */
  runAt?: Date;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type FieldCheck = (value: unknown) => boolean;
const uuidField: FieldCheck = isUuid;
const oneOfField =
  (...values: string[]): FieldCheck =>
  (value) =>
    typeof value === 'string' && values.includes(value);
const shortString: FieldCheck = (value) => typeof value === 'string' && value.length > 0 && value.length <= 64;

const PAYLOAD_SHAPES: { [N in JobName]: Record<keyof JobPayloads[N], FieldCheck> } = {
  'build.run': { tenant_id: uuidField, build_id: uuidField },
  'deployment.run': { tenant_id: uuidField, deployment_id: uuidField },
  'cleanup.run': { tenant_id: uuidField },
  'notification.send': {
    tenant_id: uuidField,
    event: oneOfField('build.finished', 'deployment.finished'),
    subject_id: uuidField,
    status: shortString,
  },
};

export const isJobName = (value: unknown): value is JobName =>
  typeof value === 'string' && Object.hasOwn(PAYLOAD_SHAPES, value);

/**
 * Checks a payload received from a queue. A malformed payload is a `ValidationError`: the job
 * can never succeed, so workers fail it at once instead of retrying it.
 */
export function parseJobPayload<N extends JobName>(name: N, raw: unknown): JobPayloads[N] {
  if (!isJobName(name)) throw ValidationError.field('name', `unknown job ${String(name)}`);
  if (!isObject(raw)) throw ValidationError.field('payload', 'must be an object');
  const shape = PAYLOAD_SHAPES[name] as Record<string, FieldCheck>;
  const issues = [];
  for (const [field, check] of Object.entries(shape)) {
    if (!check(raw[field])) issues.push({ field: `payload.${field}`, message: 'is missing or malformed' });
  }
  for (const field of Object.keys(raw)) {
    if (!Object.hasOwn(shape, field)) issues.push({ field: `payload.${field}`, message: 'is not allowed' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return raw as JobPayloads[N];
}

/** Payload fields that name what a job is about, for its log lines. */
const LOG_FIELDS = ['tenant_id', 'build_id', 'deployment_id', 'subject_id'] as const;

/**
 * The fields every log line of a job carries: its tenant and the row it is about (`build_id`,
 * `deployment_id`, a notification's `subject_id`). Reads a payload not yet validated: only short
 * string values are taken.
 */
export function jobLogFields(payload: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!isObject(payload)) return fields;
  for (const field of LOG_FIELDS) {
    const value = payload[field];
    if (typeof value === 'string' && value.length <= 64) fields[field] = value;
  }
  return fields;
}
