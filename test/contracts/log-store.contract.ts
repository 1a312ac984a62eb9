import { randomUUID } from 'node:crypto';
import type { LogChunk, LogStore, LogSubject } from '@shipyard/core';
import test from 'ava';

export interface LogStoreSubject {
  store: LogStore;
  /** A tenant the store may write for (a stored row, for a store with foreign keys). */
  newTenant: () => Promise<string>;
  /** Releases connections and drops what the subject created. */
  close?: () => Promise<void>;
}

/** Chunks every store keeps per subject (the in-memory default and the database's). */
const KEPT = 64;

const build = (): LogSubject => ({ kind: 'build', id: randomUUID() });
const deployment = (): LogSubject => ({ kind: 'deployment', id: randomUUID() });
const linesOf = (chunks: LogChunk[]): string[][] => chunks.map((chunk) => chunk.lines);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The contract of every `LogStore`: chunks read back in write order and after a cursor, within
 * their tenant only, bounded to the newest of each subject, removed per subject or by age.
 * Call it once per test file (its `removeOlderThan` test is platform-wide, so it runs serially,
 * before the others).
 */
export function logStoreContract(label: string, factory: () => Promise<LogStoreSubject>): void {
  const name = `${label} log store`;
  let subject: LogStoreSubject | undefined;
  test.before(async () => {
    subject = await factory();
  });
  test.after.always(async () => {
    await subject?.close?.();
  });
  const get = () => {
    if (subject === undefined) throw new Error('the log store factory did not run');
    return subject;
  };

  // Serial tests run before the concurrent ones: no other test's chunks are older than its cutoff.
  test.serial(`${name}: removeOlderThan deletes the chunks written before the cutoff, of every subject`, async (t) => {
    const { store, newTenant } = get();
    const [a, b] = [await newTenant(), await newTenant()];
    const first = build();
    const second = deployment();
    await store.append(a, first, ['old 1']);
    await store.append(b, second, ['old 2']);
    await pause(30);
    const cutoff = new Date();
    await pause(30);
    await store.append(a, first, ['new 1']);
    t.is(await store.removeOlderThan(cutoff), 2);
    t.deepEqual(linesOf(await store.read(a, first)), [['new 1']]);
    t.deepEqual(await store.read(b, second), []);
    t.is(await store.removeOlderThan(cutoff), 0);
  });

  test(`${name}: appended lines read back in order, a chunk per append`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = build();
    t.deepEqual(await store.read(tenant, log), [], 'nothing before the first append');
    await store.append(tenant, log, ['$ npm ci', 'added 12 packages']);
    await store.append(tenant, log, ['$ npm run build']);
    await store.append(tenant, log, ['', 'done', '']);
    const chunks = await store.read(tenant, log);
    t.deepEqual(linesOf(chunks), [['$ npm ci', 'added 12 packages'], ['$ npm run build'], ['', 'done', '']]);
    t.is(new Set(chunks.map((chunk) => chunk.cursor)).size, 3, 'each chunk has its own cursor');
    for (const chunk of chunks) t.true(chunk.at instanceof Date && !Number.isNaN(chunk.at.getTime()));
    t.deepEqual(linesOf(await store.read(tenant, log, { limit: 2 })), [
      ['$ npm ci', 'added 12 packages'],
      ['$ npm run build'],
    ]);
  });

  test(`${name}: a read after a cursor returns only the chunks written since`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = deployment();
    await store.append(tenant, log, ['one']);
    await store.append(tenant, log, ['two']);
    const [first, second] = await store.read(tenant, log);
    t.deepEqual(linesOf(await store.read(tenant, log, { after: first?.cursor })), [['two']]);
    t.deepEqual(await store.read(tenant, log, { after: second?.cursor }), [], 'nothing new yet');
    await store.append(tenant, log, ['three']);
    await store.append(tenant, log, ['four']);
    t.deepEqual(linesOf(await store.read(tenant, log, { after: second?.cursor })), [['three'], ['four']]);
    t.deepEqual(linesOf(await store.read(tenant, log, { after: second?.cursor, limit: 1 })), [['three']]);
    t.is((await store.read(tenant, log, { after: null })).length, 4, 'a null cursor reads from the start');
  });

  test(`${name}: another tenant reads nothing of a subject, and cannot remove it`, async (t) => {
    const { store, newTenant } = get();
    const [owner, other] = [await newTenant(), await newTenant()];
    const log = build();
    await store.append(owner, log, ['secret']);
    t.deepEqual(await store.read(other, log), []);
    const [chunk] = await store.read(owner, log);
    t.deepEqual(await store.read(other, log, { after: '0' }), []);
    t.deepEqual(await store.read(other, { kind: 'deployment', id: log.id }), [], 'nor under the other kind');
    await store.remove(other, log);
    t.deepEqual(linesOf(await store.read(owner, log)), [['secret']]);
    t.deepEqual(await store.read(owner, log, { after: chunk?.cursor }), []);
  });

  test(`${name}: only the newest ${KEPT} chunks of a subject are kept`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = build();
    const neighbour = build();
    await store.append(tenant, neighbour, ['kept']);
    for (let i = 0; i < KEPT + 6; i += 1) await store.append(tenant, log, [`line ${i}`]);
    const chunks = await store.read(tenant, log);
    t.is(chunks.length, KEPT);
    t.deepEqual(chunks[0]?.lines, ['line 6']);
    t.deepEqual(chunks.at(-1)?.lines, [`line ${KEPT + 5}`]);
    t.deepEqual(linesOf(await store.read(tenant, neighbour)), [['kept']], 'other subjects keep theirs');
  });

  test(`${name}: remove deletes every chunk of the subject and nothing else`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = deployment();
    const other = deployment();
    await store.append(tenant, log, ['a']);
    await store.append(tenant, log, ['b']);
    await store.append(tenant, other, ['c']);
    await store.remove(tenant, log);
    t.deepEqual(await store.read(tenant, log), []);
    t.deepEqual(linesOf(await store.read(tenant, other)), [['c']]);
    await store.remove(tenant, log);
    await store.append(tenant, log, ['again']);
    t.deepEqual(linesOf(await store.read(tenant, log)), [['again']], 'a removed subject can be written again');
  });

  test(`${name}: lines with NUL survive (NUL may become U+FFFD), as do quotes, semicolons and placeholders`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = build();
    const lines = [
      'before\u0000after',
      '\u0000',
      "it's; DROP TABLE x; --",
      "E'\\x00' $1 $$body$$ ? ?? :name /* c */",
      'unicode ü → 🚀',
      '\ttabbed\r',
    ];
    await store.append(tenant, log, lines);
    const [chunk] = await store.read(tenant, log);
    t.is(chunk?.lines.length, lines.length);
    t.deepEqual(
      chunk?.lines.map((line) => line.replaceAll('\uFFFD', '\u0000')),
      lines,
    );
  });

  test(`${name}: an empty append writes nothing`, async (t) => {
    const { store, newTenant } = get();
    const tenant = await newTenant();
    const log = build();
    await store.append(tenant, log, []);
    t.deepEqual(await store.read(tenant, log), []);
    await store.append(tenant, log, ['x']);
    const [chunk] = await store.read(tenant, log);
    await store.append(tenant, log, []);
    t.deepEqual(await store.read(tenant, log, { after: chunk?.cursor }), []);
  });
}
