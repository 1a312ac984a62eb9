/**
 * The core embedded in a plain Node script: no HTTP, no database server. `createCore` wires it:
 * this script gives what only an embedder can (a token issuer, a password hasher, the common
 * passwords, the encryption keys, a build runner and a runtime) and takes the in-process defaults
 * for the rest (an in-memory database, a queue that holds jobs until `drain()` runs them, real
 * AES-256-GCM for the secrets). It registers a tenant, creates a project and a service, triggers
 * a build and runs the jobs in process. Give `createCore` a database adapter's `uow`, a queue
 * adapter's `jobs` and a real runner and runtime to embed it for good.
 */
import { randomBytes } from 'node:crypto';
import { createCore } from '@shipyard/core';
import { SimulatedBuildRunner, SimulatedDeploymentRuntime } from '@shipyard/core/in-process';
import { HmacTokenIssuer, ScryptPasswordHasher } from './auth-ports.js';

/** A few of the passwords tried first; load a real list (a breach corpus) in your own program. */
const COMMON_PASSWORDS = new Set(['password', 'password1', '12345678', '123456789', 'qwertyuiop', 'iloveyou']);

export async function run(): Promise<{ build: string; deployment: string; url: string | null }> {
  const core = createCore({
    // Keys and secrets of this run only: a real embedder keeps them (out of the database).
    tokens: ({ clock, ids }) => new HmacTokenIssuer({ secret: randomBytes(32), clock, ids }),
    passwords: new ScryptPasswordHasher(),
    commonPasswords: { isCommon: (password) => COMMON_PASSWORDS.has(password.toLowerCase()) },
    encryptionKeys: [{ id: 'k1', key: randomBytes(32) }],
    // Pretends: builds and deployments succeed without running anything.
    buildRunner: new SimulatedBuildRunner(),
    runtime: new SimulatedDeploymentRuntime(),
  });
  const session = await core.useCases.register.execute({
    tenantName: 'Acme',
    email: 'ada@example.com',
    password: 'correct horse battery',
  });
  // What a request carrying the access token would be: the token verified, the user looked up.
  const { principal } = await core.useCases.authenticate.execute(session.accessToken);
  const project = await core.useCases.createProject.execute(principal, { name: 'web' });
  const service = await core.useCases.createService.execute(principal, project.id, {
    name: 'api',
    repoUrl: 'https://github.com/acme/api.git',
    autoDeploy: true,
  });
  await core.useCases.setServiceEnv.execute(principal, service.id, { DATABASE_URL: 'postgres://db/api' });
  const build = await core.useCases.triggerBuild.execute(principal, service.id, {});
  await core.drain(); // what a worker does: relay the outbox, run the build and deployment jobs
  const finished = await core.useCases.getBuild.execute(principal, build.id);
  const deployments = await core.useCases.listDeployments.execute(principal, service.id);
  const live = deployments.items[0];
  return { build: finished.status, deployment: live?.status ?? 'none', url: live?.url ?? null };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((result) => console.log(result));
}
