import { randomBytes } from 'node:crypto';
import test from 'ava';
import { type CreateCoreOptions, createCore } from './create-core.js';
import { HeldJobQueue } from './in-process/held-job-queue.js';
import { InMemoryLogStore } from './in-process/in-memory-log-store.js';
import { InMemoryTokenBlacklist } from './in-process/in-memory-token-blacklist.js';
import { InMemoryUnitOfWork } from './in-process/in-memory-unit-of-work.js';
import { SimulatedBuildRunner } from './in-process/simulated-build-runner.js';
import { SimulatedDeploymentRuntime } from './in-process/simulated-deployment-runtime.js';
import type { JobHandlers } from './jobs/job-handlers.js';
import { AesGcmEncryptor } from './system/aes-gcm-encryptor.js';
import { LogMailer } from './system/log-mailer.js';
import { SystemClock } from './system/system-clock.js';
import { FakeCommonPasswords } from './testing/fake-common-passwords.js';
import { FakePasswordHasher } from './testing/fake-password-hasher.js';
import { FakeTokenIssuer } from './testing/fake-token-issuer.js';
import { RecordingJobQueue } from './testing/recording-job-queue.js';
import { DEFAULT_SETTINGS } from './use-cases/core-settings.js';

const required = (): CreateCoreOptions => ({
  tokens: ({ clock, ids }) => new FakeTokenIssuer(clock, ids),
  passwords: new FakePasswordHasher(),
  commonPasswords: new FakeCommonPasswords(),
  encryptionKeys: [{ id: 'k1', key: randomBytes(32) }],
  buildRunner: new SimulatedBuildRunner(),
  runtime: new SimulatedDeploymentRuntime(),
});

test('what is not given defaults to the in-process adapters and real encryption', (t) => {
  const { deps } = createCore({ ...required(), settings: { keepArtifacts: 5 } });
  t.true(deps.uow instanceof InMemoryUnitOfWork);
  t.true(deps.jobs instanceof HeldJobQueue);
  t.true(deps.blacklist instanceof InMemoryTokenBlacklist);
  t.true(deps.logStore instanceof InMemoryLogStore);
  t.true(deps.encryptor instanceof AesGcmEncryptor);
  t.true(deps.mailer instanceof LogMailer);
  t.true(deps.clock instanceof SystemClock);
  t.deepEqual(deps.settings, { ...DEFAULT_SETTINGS, keepArtifacts: 5 });
  t.deepEqual(deps.oauthProviders, {});
});

test('without encryption keys or an encryptor there is no core', (t) => {
  const { encryptionKeys: _, ...rest } = required() as CreateCoreOptions & { encryptionKeys: unknown };
  t.throws(() => createCore(rest as unknown as CreateCoreOptions), { message: /at least one key/ });
});

test('the token issuer is built on the clock and ids the core runs on', async (t) => {
  const core = createCore(required());
  const session = await core.useCases.register.execute({
    tenantName: 'Acme',
    email: 'ada@example.test',
    password: 'correct horse battery',
  });
  const { principal } = await core.useCases.authenticate.execute(session.accessToken);
  t.is(principal.userId, session.user.id);
});

test('drain runs the jobs of the held queue: a build and its deployment end live', async (t) => {
  const core = createCore(required());
  const session = await core.useCases.register.execute({
    tenantName: 'Acme',
    email: 'ada@example.test',
    password: 'correct horse battery',
  });
  const { principal } = await core.useCases.authenticate.execute(session.accessToken);
  const project = await core.useCases.createProject.execute(principal, { name: 'web' });
  const service = await core.useCases.createService.execute(principal, project.id, {
    name: 'api',
    repoUrl: 'https://github.com/acme/api.git',
    autoDeploy: true,
  });
  await core.useCases.setServiceEnv.execute(principal, service.id, { TOKEN: 's3cret' });
  const build = await core.useCases.triggerBuild.execute(principal, service.id, {});
  const report = await core.drain();
  t.deepEqual(report.gaveUp, []);
  t.true(report.runs >= 2);
  t.is((await core.useCases.getBuild.execute(principal, build.id)).status, 'succeeded');
  t.is((await core.useCases.listDeployments.execute(principal, service.id)).items[0]?.status, 'live');
});

test('a queue built from the handlers gets them once the core is built', async (t) => {
  let given: (() => JobHandlers) | undefined;
  const queue = new RecordingJobQueue();
  const core = createCore({
    ...required(),
    jobs: (handlers) => {
      given = handlers;
      t.throws(handlers, { message: /not built yet/ });
      return queue;
    },
  });
  t.is(given?.(), core.handlers);
  t.is(core.deps.jobs, queue);
});
