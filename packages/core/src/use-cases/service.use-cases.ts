import { ValidationError } from '../domain/app.errors.js';
import { changedFields, envChangeSummary, snapshot } from '../domain/audit-redaction.js';
import { type ParsedRepoUrl, parseRepoUrl, type RepoUrlPolicy } from '../domain/repo-url.js';
import { type Principal, requireRole } from '../domain/role.js';
import { checkEnvVars, Service, type ServiceSettings } from '../domain/service.entity.js';
import { type ListQueryInput, type Page, parseListQuery } from '../query/list-query.js';
import { recordAudit } from './audit.use-cases.js';
import type { CoreDeps } from './core-deps.js';
import { envContext, MASK, repoCredentialsContext } from './service-env.js';
import { stamp } from './stamp.js';

export class ListServices {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, projectId: string, query?: ListQueryInput): Promise<Page<Service>> {
    requireRole(actor, 'viewer');
    const spec = parseListQuery('service', query);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.projects.get(projectId);
      return repos.services.list({ ...spec, filters: { ...spec.filters, projectId: [projectId] } });
    });
  }
}

export class GetService {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, serviceId: string): Promise<Service> {
    requireRole(actor, 'viewer');
    return this.deps.uow.run(actor.tenantId, (repos) => repos.services.get(serviceId));
  }
}

export type ServiceInput = Pick<ServiceSettings, 'name' | 'repoUrl'> & Partial<ServiceSettings>;

type RepoDeps = Pick<CoreDeps, 'clock' | 'encryptor' | 'settings'>;

/** Scheme, host and port of a repository URL (what its credentials are for). */
const originOf = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return url;
  }
};

/**
 * Stores the credentials a checked repository URL carried, encrypted (bound to tenant and
 * service); the URL kept in the clear has none. A URL that names the masked credentials keeps the
 * stored ones, but only on the host they were for (`previousUrl`), so a service read and written
 * back is unchanged and a token never follows the URL elsewhere.
 */
async function applyCredentials(
  deps: RepoDeps,
  tenantId: string,
  service: Service,
  parsed: ParsedRepoUrl,
  previousUrl: string | null,
): Promise<void> {
  if (parsed.keepsCredentials) {
    if (service.repoCredentials === null) {
      throw ValidationError.field('repoUrl', 'names masked credentials, but the service has none stored');
    }
    if (previousUrl === null || originOf(parsed.url) !== originOf(previousUrl)) {
      throw ValidationError.field(
        'repoUrl',
        'keeps the stored credentials only on the same host: give the credentials again for another one',
      );
    }
    return;
  }
  const ciphertext =
    parsed.credentials === null
      ? null
      : await deps.encryptor.encrypt(parsed.credentials, repoCredentialsContext(tenantId, service.id));
  service.setRepoCredentials(ciphertext, deps.clock.now());
}

/** Repository URLs under the server's policy (local ones only when it allows them). */
const repoPolicy = (deps: RepoDeps): RepoUrlPolicy => ({ allowLocalRepos: deps.settings.allowLocalRepos });

export class CreateService {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'encryptor' | 'settings'>) {}

  async execute(actor: Principal, projectId: string, input: ServiceInput): Promise<Service> {
    requireRole(actor, 'member');
    const { repoUrl, ...settings } = input;
    const policy = repoPolicy(this.deps);
    const parsed = parseRepoUrl(repoUrl, policy);
    const service = Service.create(stamp(this.deps), { ...settings, repoUrl: parsed.url, projectId }, policy);
    await applyCredentials(this.deps, actor.tenantId, service, parsed, null);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      await repos.projects.get(projectId);
      await repos.services.add(service);
      await recordAudit(this.deps, repos, actor, {
        action: 'service.create',
        target: { type: 'service', id: service.id },
        summary: { name: service.name, project_id: service.projectId },
      });
      return service;
    });
  }
}

export class UpdateService {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'encryptor' | 'settings'>) {}

  async execute(actor: Principal, serviceId: string, changes: Partial<ServiceSettings>): Promise<Service> {
    requireRole(actor, 'member');
    const { repoUrl, ...rest } = changes;
    const policy = repoPolicy(this.deps);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const service = await repos.services.get(serviceId);
      const previousUrl = service.repoUrl;
      const before = snapshot(service);
      service.update(rest, this.deps.clock.now());
      const parsed = repoUrl === undefined ? null : parseRepoUrl(repoUrl, policy);
      if (parsed !== null) service.update({ repoUrl: parsed.url }, this.deps.clock.now(), policy);
      if (parsed !== null) await applyCredentials(this.deps, actor.tenantId, service, parsed, previousUrl);
      await repos.services.update(service);
      await recordAudit(this.deps, repos, actor, {
        action: 'service.update',
        target: { type: 'service', id: service.id },
        summary: { changed: changedFields(before, service, SERVICE_AUDITED_FIELDS) },
      });
      return service;
    });
  }
}

/** The service fields whose change the audit trail names (credentials by name only, as `repo_credentials`). */
const SERVICE_AUDITED_FIELDS = [
  'name',
  'repoUrl',
  'repoCredentials',
  'branch',
  'buildCommand',
  'startCommand',
  'port',
  'autoDeploy',
  'healthCheckPath',
] as const;

/** Deleting a service, like a project, is for admins; its builds and deployments go with it. */
export class DeleteService {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids'>) {}

  async execute(actor: Principal, serviceId: string): Promise<void> {
    requireRole(actor, 'admin');
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const service = await repos.services.get(serviceId);
      await repos.services.remove(service.id);
      await recordAudit(this.deps, repos, actor, {
        action: 'service.delete',
        target: { type: 'service', id: service.id },
        summary: { name: service.name, project_id: service.projectId },
      });
    });
  }
}

/** Env var names with masked values: what the API shows. */
export type MaskedEnv = Record<string, typeof MASK>;

const mask = (env: Record<string, string>): MaskedEnv =>
  Object.fromEntries(
    Object.keys(env)
      .sort()
      .map((name) => [name, MASK]),
  );

/** Replaces a service's env vars; each value is encrypted, bound to tenant, service and name. */
export class SetServiceEnv {
  constructor(private readonly deps: Pick<CoreDeps, 'uow' | 'clock' | 'ids' | 'encryptor'>) {}

  async execute(actor: Principal, serviceId: string, vars: Record<string, string>): Promise<MaskedEnv> {
    requireRole(actor, 'member');
    const plain = checkEnvVars(vars);
    return this.deps.uow.run(actor.tenantId, async (repos) => {
      const service = await repos.services.get(serviceId);
      const encrypted: Record<string, string> = {};
      for (const [name, value] of Object.entries(plain)) {
        encrypted[name] = await this.deps.encryptor.encrypt(value, envContext(actor.tenantId, service.id, name));
      }
      const previous = service.env;
      service.replaceEnv(encrypted, this.deps.clock.now());
      await repos.services.update(service);
      // Names only: the values, plain or encrypted, never reach the trail.
      await recordAudit(this.deps, repos, actor, {
        action: 'service.env_update',
        target: { type: 'service', id: service.id },
        summary: envChangeSummary(previous, service.env),
      });
      return mask(service.env);
    });
  }
}

export class GetServiceEnv {
  constructor(private readonly deps: Pick<CoreDeps, 'uow'>) {}

  async execute(actor: Principal, serviceId: string): Promise<MaskedEnv> {
    requireRole(actor, 'member');
    return this.deps.uow.run(actor.tenantId, async (repos) => mask((await repos.services.get(serviceId)).env));
  }
}
