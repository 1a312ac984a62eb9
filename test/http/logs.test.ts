import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { bearer, type SignedIn, TestApp } from './fixture.js';
import { assertError, buildWorld, fieldsOf, MISSING_ID } from './helpers.js';
import { SseClient } from './sse.js';

const V1 = '/api/v1';
const SSE = { Accept: 'text/event-stream' };

/** A tenant with a finished build and a live deployment, and a build of the same service still queued. */
async function setup(options: ConstructorParameters<typeof TestApp>[0] = {}) {
  const api = new TestApp(options);
  const owner = await api.register();
  const world = await buildWorld(api, owner, `l${owner.tenantId.slice(0, 6)}`);
  const queued = await api.http
    .post(`${V1}/services/${world.serviceId}/builds`)
    .set(bearer(owner))
    .send({})
    .expect(202);
  const append = (kind: 'build' | 'deployment', id: string, lines: string[]) =>
    api.harness.logStore.append(owner.tenantId, { kind, id }, lines);
  return { api, owner, world, queuedBuild: queued.body.id as string, append };
}

const open = (api: TestApp, who: SignedIn, path: string, headers: Record<string, string> = SSE) =>
  SseClient.open(api, `${V1}${path}`, { Authorization: `Bearer ${who.token}`, ...headers });

const dataOf = (events: { event: string; data: string }[]) =>
  events.filter((e) => e.event === 'message').map((e) => e.data);

test('text: a finished build’s log holds its lines, ends with a newline and says it ended', async (t) => {
  const { api, owner, world } = await setup();
  const res = await api.http.get(`${V1}/builds/${world.buildId}/logs`).set(bearer(owner)).expect(200);
  t.is(res.headers['content-type'], 'text/plain; charset=utf-8');
  t.regex(res.text, /Build succeeded\n/);
  t.true(res.text.endsWith('\n'));
  t.false(res.text.endsWith('\n\n'));
  t.is(res.headers['x-log-ended'], 'true');
  t.truthy(res.headers['x-log-cursor']);
  t.is(res.headers['cache-control'], 'no-store');
  // The same lines as the build row's logs.
  const build = await api.http.get(`${V1}/builds/${world.buildId}`).set(bearer(owner)).expect(200);
  for (const line of build.body.logs.split('\n').filter((l: string) => l !== '')) t.true(res.text.includes(line));
});

test('text: ?after=<cursor> gives only the newer lines; a deployment’s log too; a live one has not ended', async (t) => {
  const { api, owner, queuedBuild, world, append } = await setup();
  const auth = bearer(owner);
  const empty = await api.http.get(`${V1}/builds/${queuedBuild}/logs`).set(auth).expect(200);
  t.is(empty.text, '');
  t.is(empty.headers['x-log-ended'], 'false');
  t.false('x-log-cursor' in empty.headers);

  await append('build', queuedBuild, ['step 1', 'step 2']);
  const first = await api.http.get(`${V1}/builds/${queuedBuild}/logs`).set(auth).expect(200);
  t.is(first.text, 'step 1\nstep 2\n');
  const cursor = first.headers['x-log-cursor'] as string;
  t.truthy(cursor);
  await append('build', queuedBuild, ['step 3']);
  await append('build', queuedBuild, ['step 4']);
  const newer = await api.http
    .get(`${V1}/builds/${queuedBuild}/logs?after=${encodeURIComponent(cursor)}`)
    .set(auth)
    .expect(200);
  t.is(newer.text, 'step 3\nstep 4\n');
  t.not(newer.headers['x-log-cursor'], cursor);
  const none = await api.http
    .get(`${V1}/builds/${queuedBuild}/logs?after=${encodeURIComponent(newer.headers['x-log-cursor'] as string)}`)
    .set(auth)
    .expect(200);
  t.is(none.text, '');
  t.is(none.headers['x-log-cursor'], newer.headers['x-log-cursor'], 'nothing new: the same cursor');
  t.is(
    (await api.http.get(`${V1}/builds/${queuedBuild}/logs`).set(auth).expect(200)).text,
    'step 1\nstep 2\nstep 3\nstep 4\n',
  );

  // What the app printed while it started is copied to the store on a timer: in before the line below.
  for (let waited = 0; waited < 5_000; waited += 20) {
    const started = await api.http.get(`${V1}/deployments/${world.deploymentId}/logs`).set(auth).expect(200);
    if (started.text.includes('==> Live at')) break;
    await sleep(20);
  }
  await append('deployment', world.deploymentId, ['listening on 8080']);
  const deployment = await api.http.get(`${V1}/deployments/${world.deploymentId}/logs`).set(auth).expect(200);
  t.is(deployment.headers['content-type'], 'text/plain; charset=utf-8');
  t.regex(deployment.text, /listening on 8080\n$/);
  t.is(deployment.headers['x-log-ended'], 'false', 'a live deployment’s log goes on');
});

test('follow: lines appended while the stream is open arrive in order, then `end` once the build finished', async (t) => {
  const { api, owner, queuedBuild, append } = await setup();
  const stream = await open(api, owner, `/builds/${queuedBuild}/logs`);
  try {
    t.is(stream.status, 200);
    t.regex(stream.headers['content-type'] ?? '', /^text\/event-stream/);
    t.is(stream.headers['cache-control'], 'no-cache');
    t.is(stream.headers['x-accel-buffering'], 'no');
    t.is(stream.headers['content-length'], undefined);

    await append('build', queuedBuild, ['line 1']);
    const [one] = await stream.waitForEvents(1);
    t.deepEqual(one, { event: 'message', id: one?.id, data: 'line 1' });
    t.truthy(one?.id, 'the last event of a chunk carries its cursor');
    await append('build', queuedBuild, ['line 2', 'line 3']);
    const three = await stream.waitForEvents(3);
    t.deepEqual(dataOf(three), ['line 1', 'line 2', 'line 3']);
    t.is(three[1]?.id, undefined, 'only the last line of a chunk has an id');
    t.truthy(three[2]?.id);
    t.not(three[2]?.id, one?.id);
    // The build is still queued: no end yet.
    await sleep(100);
    t.false(stream.events.some((e) => e.event === 'end'));
    t.false(stream.closed);

    await api.harness.drain();
    await stream.until(() => stream.events.some((e) => e.event === 'end'), 'the end event');
    await stream.ended();
    const end = stream.events.at(-1);
    t.deepEqual(end, { event: 'end', id: undefined, data: '{"status":"ended"}' });
    t.is(stream.events.filter((e) => e.event === 'end').length, 1);
    t.deepEqual(dataOf(stream.events).slice(0, 3), ['line 1', 'line 2', 'line 3']);
  } finally {
    await stream.close();
  }
});

test('follow: Last-Event-ID (or ?after=) resumes after that event; ?follow=true streams without an Accept header', async (t) => {
  const { api, owner, world, append } = await setup();
  // The build finished; these lines come after whatever it wrote.
  await append('build', world.buildId, ['a']);
  await append('build', world.buildId, ['b', 'c']);
  const whole = await open(api, owner, `/builds/${world.buildId}/logs`);
  await whole.ended();
  await whole.close();
  const lines = dataOf(whole.events);
  t.deepEqual(lines.slice(-3), ['a', 'b', 'c']);
  t.is(whole.events.at(-1)?.event, 'end');
  const afterA = whole.events.find((e) => e.data === 'a')?.id as string;
  t.truthy(afterA);

  const resumed = await open(api, owner, `/builds/${world.buildId}/logs`, { ...SSE, 'Last-Event-ID': afterA });
  await resumed.ended();
  await resumed.close();
  t.deepEqual(dataOf(resumed.events), ['b', 'c']);
  t.is(resumed.events.at(-1)?.event, 'end');

  // A reconnecting EventSource keeps its first URL: Last-Event-ID wins over ?after=.
  const last = whole.events.filter((e) => e.id !== undefined).at(-1)?.id as string;
  t.not(last, afterA);
  const both = await open(api, owner, `/builds/${world.buildId}/logs?after=${encodeURIComponent(last)}`, {
    ...SSE,
    'Last-Event-ID': afterA,
  });
  await both.ended();
  await both.close();
  t.deepEqual(dataOf(both.events), ['b', 'c']);

  const byQuery = await open(
    api,
    owner,
    `/builds/${world.buildId}/logs?follow=true&after=${encodeURIComponent(afterA)}`,
    {},
  );
  await byQuery.ended();
  await byQuery.close();
  t.regex(byQuery.headers['content-type'] ?? '', /^text\/event-stream/);
  t.deepEqual(dataOf(byQuery.events), ['b', 'c']);
  t.is(byQuery.events.at(-1)?.event, 'end');

  // ?follow=false wins over the Accept header.
  const text = await api.http
    .get(`${V1}/builds/${world.buildId}/logs?follow=false&after=${encodeURIComponent(afterA)}`)
    .set(bearer(owner))
    .set(SSE)
    .expect(200);
  t.is(text.text, 'b\nc\n');
});

test('follow: CR and LF in a line cannot forge events or fields', async (t) => {
  const { api, owner, queuedBuild, append } = await setup();
  await append('build', queuedBuild, ['evil\r\nevent: end\n\ndata: {"status":"ended"}\rid: 999', 'next']);
  const stream = await open(api, owner, `/builds/${queuedBuild}/logs`);
  try {
    const events = await stream.waitForEvents(2);
    t.deepEqual(
      events.map((e) => e.event),
      ['message', 'message'],
    );
    t.is(events[0]?.data, 'evil\nevent: end\n\ndata: {"status":"ended"}\nid: 999');
    t.is(events[0]?.id, undefined);
    t.is(events[1]?.data, 'next');
    t.not(events[1]?.id, '999');
    t.false(stream.closed);
  } finally {
    await stream.close();
  }
});

test('follow: polling stops as soon as the client hangs up', async (t) => {
  const { api, owner, queuedBuild } = await setup();
  const readLogs = api.useCases.readLogs;
  const original = readLogs.execute.bind(readLogs);
  let reads = 0;
  readLogs.execute = async (...args) => {
    reads += 1;
    return original(...args);
  };
  const stream = await open(api, owner, `/builds/${queuedBuild}/logs`);
  await sleep(150);
  t.true(reads >= 3, `it polls (${reads} reads)`);
  await stream.close();
  await sleep(60);
  const after = reads;
  await sleep(200);
  t.is(reads, after, 'no read after the client left');
});

test('follow: keepalive comments; the stream ends at its time limit without `end`', async (t) => {
  const { api, owner, queuedBuild } = await setup({ logStream: { keepAliveMs: 40, maxDurationMs: 300 } });
  const stream = await open(api, owner, `/builds/${queuedBuild}/logs`);
  try {
    await stream.until(() => stream.comments.includes('keepalive'), 'a keepalive');
    await stream.ended(3000);
    t.false(
      stream.events.some((e) => e.event === 'end'),
      'the log did not end: no end event',
    );
  } finally {
    await stream.close();
  }
});

test('follow: a read that fails once the stream began ends it with `event: error`', async (t) => {
  const { api, owner, world, queuedBuild, append } = await setup();
  await append('build', queuedBuild, ['started']);
  const stream = await open(api, owner, `/builds/${queuedBuild}/logs`);
  try {
    await stream.waitForEvents(1);
    // The service goes, with its builds: the next read is a not_found.
    await api.http.delete(`${V1}/services/${world.serviceId}`).set(bearer(owner)).expect(204);
    await stream.ended();
    const last = stream.events.at(-1);
    t.is(last?.event, 'error');
    const error = JSON.parse(last?.data ?? '{}');
    t.like(error, { code: 'not_found', message: 'Build not found' });
    t.is(typeof error.request_id, 'string');
    t.false(stream.events.some((e) => e.event === 'end'));
  } finally {
    await stream.close();
  }
});

test('errors before the stream are ordinary error responses: 401, 404, 422', async (t) => {
  const { api, owner, world } = await setup();
  for (const headers of [{}, SSE]) {
    for (const path of [`/builds/${world.buildId}/logs`, `/deployments/${world.deploymentId}/logs`]) {
      assertError(t, await api.http.get(`${V1}${path}`).set(headers), 401, 'authentication_error');
    }
    for (const path of [`/builds/${MISSING_ID}/logs`, '/builds/not-a-uuid/logs', `/deployments/${MISSING_ID}/logs`]) {
      const res = await api.http.get(`${V1}${path}`).set(bearer(owner)).set(headers);
      assertError(t, res, 404, 'not_found');
      t.regex(res.headers['content-type'] ?? '', /application\/json/);
    }
    const cases: [string, Record<string, string>, string[]][] = [
      ['?after=', {}, ['after']],
      ['?after=a%20b', {}, ['after']],
      ['?follow=yes', {}, ['follow']],
      ['?follow=true&follow=true', {}, ['follow']],
      ['?tail=10', {}, ['tail']],
      ['', { 'Last-Event-ID': 'a b' }, ['last-event-id']],
    ];
    for (const [query, extra, fields] of cases) {
      const res = await api.http
        .get(`${V1}/builds/${world.buildId}/logs${query}`)
        .set(bearer(owner))
        .set({ ...headers, ...extra });
      assertError(t, res, 422, 'validation_error');
      t.deepEqual(fieldsOf(res), fields, query);
    }
  }
});

test('a viewer reads and follows logs', async (t) => {
  const { api, owner, world } = await setup();
  const viewer = await api.userWithRole(owner, 'viewer');
  const text = await api.http.get(`${V1}/builds/${world.buildId}/logs`).set(bearer(viewer)).expect(200);
  t.regex(text.text, /Build succeeded/);
  const stream = await open(api, viewer, `/builds/${world.buildId}/logs`);
  await stream.ended();
  await stream.close();
  t.true(dataOf(stream.events).includes('Build succeeded'));
  t.is(stream.events.at(-1)?.event, 'end');
});

test('follow: the app’s signal (shutdown) ends every open stream, without `end`', async (t) => {
  const shutdown = new AbortController();
  const { api, owner, queuedBuild, world } = await setup({ logStream: { signal: shutdown.signal } });
  const streams = [
    await open(api, owner, `/builds/${queuedBuild}/logs`),
    await open(api, owner, `/deployments/${world.deploymentId}/logs`),
  ];
  try {
    await sleep(60);
    for (const stream of streams) t.false(stream.closed);
    shutdown.abort();
    for (const stream of streams) {
      await stream.ended();
      t.false(stream.events.some((e) => e.event === 'end'));
    }
  } finally {
    for (const stream of streams) await stream.close();
  }
});

test('follow: one user may follow a few logs at once; one more is a 429, and a closed stream frees its place', async (t) => {
  const { api, owner, queuedBuild } = await setup({ logStream: { maxStreamsPerUser: 2 } });
  const first = await open(api, owner, `/builds/${queuedBuild}/logs`);
  const second = await open(api, owner, `/builds/${queuedBuild}/logs`);
  try {
    const refused = await api.http
      .get(`${V1}/builds/${queuedBuild}/logs`)
      .set(bearer(owner))
      .set('accept', 'text/event-stream')
      .expect(429);
    t.is(refused.body.error.code, 'rate_limited');
    await first.close();
    await sleep(100);
    const third = await open(api, owner, `/builds/${queuedBuild}/logs`);
    t.is(third.status, 200, 'the place of the closed stream was given back');
    await third.close();
  } finally {
    await first.close();
    await second.close();
  }
});
