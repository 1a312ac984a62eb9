import { randomUUID } from 'node:crypto';
import {
  DATABASE,
  type Database,
  dbModule,
  MAX_CHUNK_BYTES,
  MAX_LINE_BYTES,
  MikroOrmLogStore,
  TRUNCATED_MARK,
} from '@shipyard/adapters-db';
import { type LogStore, type LogSubject, TOKENS } from '@shipyard/core';
import test from 'ava';
import { Container } from 'inversify';
import { storeTenant } from './helpers.js';

const build = (): LogSubject => ({ kind: 'build', id: randomUUID() });

/** What the database's log store does beyond the port's contract: how it bounds what it stores. */
export function databaseLogStoreSpecifics(label: string, getDatabase: () => Database): void {
  const name = `${label} log store`;
  const store = (): LogStore => getDatabase().logStore;
  const tenant = () => storeTenant(getDatabase().uow);

  test(`${name}: is a MikroOrmLogStore, bound to TOKENS.LogStore by dbModule`, (t) => {
    const database = getDatabase();
    t.true(database.logStore instanceof MikroOrmLogStore);
    const container = new Container();
    container.load(dbModule(database));
    t.is(container.get<LogStore>(TOKENS.LogStore), database.logStore);
    t.is(container.get<Database>(DATABASE), database);
  });

  test(`${name}: NUL is stored as U+FFFD`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    await store().append(tenantId, log, ['a\u0000b\u0000', '\u0000']);
    const [chunk] = await store().read(tenantId, log);
    t.deepEqual(chunk?.lines, ['a\uFFFDb\uFFFD', '\uFFFD']);
  });

  test(`${name}: a line over ${MAX_LINE_BYTES} bytes is cut at a character boundary, with a mark`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    const long = `x${'€'.repeat(MAX_LINE_BYTES)}`; // 3 bytes a character, shifted by one byte
    const fits = 'y'.repeat(MAX_LINE_BYTES);
    await store().append(tenantId, log, [long, fits]);
    const [chunk] = await store().read(tenantId, log);
    const [cut, kept] = chunk?.lines ?? [];
    t.true(cut?.endsWith(TRUNCATED_MARK));
    t.true(Buffer.byteLength(cut ?? '') <= MAX_LINE_BYTES);
    t.true(Buffer.byteLength(cut ?? '') > MAX_LINE_BYTES - 8);
    t.false(cut?.includes('\uFFFD'), 'no character is split');
    t.true(long.startsWith((cut ?? '').slice(0, -TRUNCATED_MARK.length)));
    t.is(kept, fits, 'a line of exactly the limit is kept whole');
  });

  test(`${name}: an append over ${MAX_CHUNK_BYTES} bytes is written as several chunks, in order`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    const lines = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(3, '0')} ${'z'.repeat(1000)}`);
    await store().append(tenantId, log, lines);
    const chunks = await store().read(tenantId, log);
    t.true(chunks.length >= 5);
    for (const chunk of chunks) t.true(Buffer.byteLength(chunk.lines.join('\n')) <= MAX_CHUNK_BYTES);
    t.deepEqual(
      chunks.flatMap((chunk) => chunk.lines),
      lines,
    );
    t.deepEqual(
      chunks.map((chunk) => BigInt(chunk.cursor)),
      chunks.map((chunk) => BigInt(chunk.cursor)).sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  test(`${name}: a line holding a newline reads back as two lines`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    await store().append(tenantId, log, ['one\ntwo', 'three']);
    const [chunk] = await store().read(tenantId, log);
    t.deepEqual(chunk?.lines, ['one', 'two', 'three']);
  });

  test(`${name}: a cursor it cannot have given reads from the start; limit 0 reads nothing`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    await store().append(tenantId, log, ['a']);
    await store().append(tenantId, log, ['b']);
    for (const after of ['abc', '-1', '1e3', ' 1', '', '99999999999999999999', '9223372036854775808']) {
      t.is((await store().read(tenantId, log, { after })).length, 2, `after ${JSON.stringify(after)}`);
    }
    t.deepEqual(await store().read(tenantId, log, { after: '9223372036854775807' }), []);
    t.deepEqual(await store().read(tenantId, log, { limit: 0 }), []);
  });

  test(`${name}: ids that are not UUIDs match nothing; appending under them is refused`, async (t) => {
    const tenantId = await tenant();
    await t.notThrowsAsync(store().remove('not-a-uuid', build()));
    t.deepEqual(await store().read('not-a-uuid', build()), []);
    t.deepEqual(await store().read(tenantId, { kind: 'build', id: 'nope' }), []);
    t.deepEqual(await store().read(tenantId, { kind: 'other' as 'build', id: randomUUID() }), []);
    await t.throwsAsync(store().append('not-a-uuid', build(), ['x']), { code: 'validation_error' });
    await t.throwsAsync(store().append(tenantId, { kind: 'build', id: 'nope' }, ['x']), { code: 'validation_error' });
    await t.throwsAsync(store().append(randomUUID(), build(), ['x']), { code: 'not_found' });
  });

  test(`${name}: deleting a tenant deletes its chunks`, async (t) => {
    const tenantId = await tenant();
    const log = build();
    await store().append(tenantId, log, ['bye']);
    await getDatabase().uow.run(tenantId, (r) => r.tenants.remove(tenantId));
    t.deepEqual(await store().read(tenantId, log), []);
  });
}
