import test, { type ExecutionContext } from 'ava';
import { createTestHarness } from '../testing/index.js';
import { ValidationError } from './app.errors.js';
import { isJobName, JOB_QUEUES, type JobName, parseJobPayload, QUEUES } from './job.types.js';

const TENANT = '3f2a8c1e-9b7d-4e6f-8a5b-1c2d3e4f5a6b';
const SUBJECT = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

const VALID: { [N in JobName]: Record<string, unknown> } = {
  'build.run': { tenant_id: TENANT, build_id: SUBJECT },
  'deployment.run': { tenant_id: TENANT, deployment_id: SUBJECT },
  'cleanup.run': { tenant_id: TENANT },
  'notification.send': { tenant_id: TENANT, event: 'build.finished', subject_id: SUBJECT, status: 'succeeded' },
};
const NAMES = Object.keys(VALID) as JobName[];

function rejects(t: ExecutionContext, name: JobName, payload: unknown, fields: string[]): void {
  const error = t.throws(() => parseJobPayload(name, payload), { instanceOf: ValidationError });
  t.is(error?.code, 'validation_error');
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    fields,
  );
}

test('there are four queues and every job has one of them', (t) => {
  t.deepEqual([...QUEUES].sort(), ['build', 'cleanup', 'default', 'deployment']);
  for (const name of NAMES) t.true(QUEUES.includes(JOB_QUEUES[name]), name);
  t.is(JOB_QUEUES['build.run'], 'build');
  t.is(JOB_QUEUES['deployment.run'], 'deployment');
  t.is(JOB_QUEUES['cleanup.run'], 'cleanup');
});

for (const name of NAMES) {
  test(`a valid ${name} payload passes unchanged`, (t) => {
    t.deepEqual(parseJobPayload(name, structuredClone(VALID[name])), VALID[name]);
  });

  test(`a ${name} payload without tenant_id is refused`, (t) => {
    const { tenant_id: _omitted, ...rest } = VALID[name];
    rejects(t, name, rest, ['payload.tenant_id']);
  });

  test(`a ${name} payload with an extra field is refused`, (t) => {
    rejects(t, name, { ...VALID[name], priority: 'high' }, ['payload.priority']);
  });

  test(`a ${name} payload with a malformed tenant id is refused`, (t) => {
    rejects(t, name, { ...VALID[name], tenant_id: 'tenant-1' }, ['payload.tenant_id']);
  });

  test(`a ${name} payload that is not an object is refused`, (t) => {
    for (const payload of [null, 'x', 42, [VALID[name]]]) rejects(t, name, payload, ['payload']);
  });
}

test('the subject id of a job must be a UUID', (t) => {
  rejects(t, 'build.run', { tenant_id: TENANT, build_id: 42 }, ['payload.build_id']);
  rejects(t, 'deployment.run', { tenant_id: TENANT }, ['payload.deployment_id']);
  rejects(t, 'notification.send', { ...VALID['notification.send'], subject_id: 'abc' }, ['payload.subject_id']);
});

test('a notification needs a known event and a short non-empty status', (t) => {
  rejects(t, 'notification.send', { ...VALID['notification.send'], event: 'build.started' }, ['payload.event']);
  rejects(t, 'notification.send', { ...VALID['notification.send'], status: '' }, ['payload.status']);
  rejects(t, 'notification.send', { ...VALID['notification.send'], status: 's'.repeat(65) }, ['payload.status']);
});

test('every problem of a payload is reported at once', (t) => {
  rejects(t, 'build.run', { tenant_id: 'x', extra: 1 }, ['payload.tenant_id', 'payload.build_id', 'payload.extra']);
});

test('an unknown job name is refused', (t) => {
  t.false(isJobName('build.explode'));
  t.false(isJobName('toString'));
  t.true(isJobName('cleanup.run'));
  const error = t.throws(() => parseJobPayload('build.explode' as JobName, {}), { instanceOf: ValidationError });
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    ['name'],
  );
});

test('the job handlers reject a malformed payload as a rejected promise, before running anything', async (t) => {
  const harness = createTestHarness();
  await t.throwsAsync(harness.handlers.run('build.run', { tenant_id: TENANT }), { code: 'validation_error' });
  await t.throwsAsync(harness.handlers.giveUp('deployment.run', { deployment_id: SUBJECT }, 'x'), {
    code: 'validation_error',
  });
  t.is(harness.buildRunner.calls.length, 0);
});

test('a worker fails a malformed job at once instead of retrying it', async (t) => {
  const harness = createTestHarness();
  const report = { runs: 0, gaveUp: [] as never[] };
  await harness.runJob(
    { id: SUBJECT, name: 'build.run', queue: 'build', payload: { tenant_id: 'bad' } as never },
    report,
  );
  t.is(report.runs, 1);
  t.is(report.gaveUp.length, 1);
});
