import { ValidationError } from './app.errors.js';
import { Entity, type NewEntity } from './entity.js';
import type { Project } from './project.entity.js';
import { parseRepoUrl, type RepoUrlPolicy } from './repo-url.js';
import { boolean, integer, optionalText, text } from './validate.js';

export const SERVICE_STATUSES = ['idle', 'building', 'deploying', 'live', 'failed'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// A git ref name as `git check-ref-format` allows it, minus the rarely used corners.
// biome-ignore lint/suspicious/noControlCharactersInRegex: git forbids control characters in ref names
const BRANCH = /^(?!\/|-)(?!.*(?:\/\/|\.\.|@\{|\/$|\.lock$|\.$))[^\x00-\x20~^:?*[\\\x7f]{1,255}$/;
const HEALTH_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_ENV_VARS = 200;
export const MAX_ENV_VALUE_LENGTH = 32_768;

export function checkServiceName(value: unknown): string {
  const name = text('name', value, { max: 63 });
  if (!SERVICE_NAME.test(name)) {
    throw ValidationError.field('name', 'must be lowercase letters, digits and inner hyphens (1 to 63)');
  }
  return name;
}

export function checkBranch(field: string, value: unknown): string {
  const branch = text(field, value, { max: 255 });
  if (!BRANCH.test(branch)) throw ValidationError.field(field, 'must be a valid git branch name');
  return branch;
}

/**
 * A repository URL as stored: checked under the server's policy, and without credentials (the
 * use cases take them out and store them encrypted, see `parseRepoUrl`).
 */
export function checkRepoUrl(value: unknown, policy: RepoUrlPolicy = { allowLocalRepos: false }): string {
  const parsed = parseRepoUrl(value, policy);
  if (parsed.credentials !== null || parsed.keepsCredentials) {
    throw ValidationError.field('repoUrl', 'must not carry credentials here');
  }
  return parsed.url;
}

/** A path the app answers 2xx on once it is ready; `null` means `/`. */
export function checkHealthCheckPath(value: unknown): string | null {
  const path = optionalText('healthCheckPath', value, 1024);
  if (path === null) return null;
  // RFC 3986 path and query characters only, percent-escapes well formed: what an HTTP request line carries.
  if (!HEALTH_PATH.test(path) || path.startsWith('//') || /%(?![0-9A-Fa-f]{2})/.test(path)) {
    throw ValidationError.field(
      'healthCheckPath',
      'must be a URL path starting with "/" (letters, digits and - . _ ~ ! $ & \' ( ) * + , ; = : @ / ? %XX)',
    );
  }
  return path;
}

/** Checks plain env vars before they are encrypted; names are case-sensitive. */
export function checkEnvVars(vars: unknown): Record<string, string> {
  if (typeof vars !== 'object' || vars === null || Array.isArray(vars)) {
    throw ValidationError.field('vars', 'must be an object of names to values');
  }
  const entries = Object.entries(vars);
  if (entries.length > MAX_ENV_VARS) {
    throw ValidationError.field('vars', `must hold at most ${MAX_ENV_VARS} variables`);
  }
  const issues = [];
  for (const [key, value] of entries) {
    if (!ENV_KEY.test(key)) {
      issues.push({ field: `vars.${key}`, message: 'name must match [A-Za-z_][A-Za-z0-9_]* (at most 128)' });
    } else if (typeof value !== 'string') {
      issues.push({ field: `vars.${key}`, message: 'must be a string' });
    } else if (value.length > MAX_ENV_VALUE_LENGTH) {
      issues.push({ field: `vars.${key}`, message: `must be at most ${MAX_ENV_VALUE_LENGTH} characters` });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return Object.fromEntries(entries) as Record<string, string>;
}

export interface ServiceSettings {
  name: string;
  repoUrl: string;
  branch: string;
  buildCommand: string | null;
  startCommand: string | null;
  port: number | null;
  autoDeploy: boolean;
  healthCheckPath: string | null;
}

export class Service extends Entity {
  projectId!: string;
  name!: string;
  repoUrl!: string;
  branch!: string;
  buildCommand!: string | null;
  startCommand!: string | null;
  port!: number | null;
  autoDeploy!: boolean;
  /** Polled until the app answers 2xx before a deployment takes traffic; `null` means `/`. */
  healthCheckPath!: string | null;
  /**
   * The credentials of `repoUrl` (`user:token`, or a lone token), as ciphertext from the
   * `Encryptor` port; `repoUrl` itself holds none. Never shown: the URL is shown masked.
   */
  repoCredentials!: string | null;
  /** Variable name → ciphertext from the `Encryptor` port. Never shown in the clear. */
  env!: Record<string, string>;
  status!: ServiceStatus;
  /** Filled only when loaded with the `project` relation. */
  project?: Project;

  static create(
    ctx: NewEntity,
    input: { projectId: string; name: string; repoUrl: string } & Partial<Omit<ServiceSettings, 'name' | 'repoUrl'>>,
    policy?: RepoUrlPolicy,
  ): Service {
    const service = new Service();
    service.init(ctx);
    service.projectId = input.projectId;
    service.name = checkServiceName(input.name);
    service.repoUrl = checkRepoUrl(input.repoUrl, policy);
    service.branch = checkBranch('branch', input.branch ?? 'main');
    service.buildCommand = optionalText('buildCommand', input.buildCommand, 1000);
    service.startCommand = optionalText('startCommand', input.startCommand, 1000);
    service.port = input.port == null ? null : integer('port', input.port, 1, 65535);
    service.autoDeploy = input.autoDeploy == null ? false : boolean('autoDeploy', input.autoDeploy);
    service.healthCheckPath = checkHealthCheckPath(input.healthCheckPath);
    service.repoCredentials = null;
    service.env = {};
    service.status = 'idle';
    return service;
  }

  update(changes: Partial<ServiceSettings>, now: Date, policy?: RepoUrlPolicy): void {
    if (changes.name !== undefined) this.name = checkServiceName(changes.name);
    if (changes.repoUrl !== undefined) this.repoUrl = checkRepoUrl(changes.repoUrl, policy);
    if (changes.branch !== undefined) this.branch = checkBranch('branch', changes.branch);
    if (changes.buildCommand !== undefined) {
      this.buildCommand = optionalText('buildCommand', changes.buildCommand, 1000);
    }
    if (changes.startCommand !== undefined) {
      this.startCommand = optionalText('startCommand', changes.startCommand, 1000);
    }
    if (changes.port !== undefined) {
      this.port = changes.port === null ? null : integer('port', changes.port, 1, 65535);
    }
    if (changes.autoDeploy !== undefined) this.autoDeploy = boolean('autoDeploy', changes.autoDeploy);
    if (changes.healthCheckPath !== undefined) this.healthCheckPath = checkHealthCheckPath(changes.healthCheckPath);
    this.touch(now);
  }

  /** The ciphertext of the repository's credentials, or `null` to drop them. */
  setRepoCredentials(ciphertext: string | null, now: Date): void {
    this.repoCredentials = ciphertext;
    this.touch(now);
  }

  replaceEnv(encrypted: Record<string, string>, now: Date): void {
    this.env = { ...encrypted };
    this.touch(now);
  }

  /** Returns whether the status changed (an unchanged service need not be written). */
  setStatus(status: ServiceStatus, now: Date): boolean {
    if (this.status === status) return false;
    this.status = status;
    this.touch(now);
    return true;
  }
}
