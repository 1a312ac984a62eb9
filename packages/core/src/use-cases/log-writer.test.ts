import test from 'ava';
import type { LogStore, LogSubject } from '../ports/log-store.port.js';
import { InMemoryLogStore, MemoryLogger } from '../testing/index.js';
import { LogTail, LogWriter, MAX_LOG_LINE_LENGTH } from './log-writer.js';

const SUBJECT: LogSubject = { kind: 'build', id: '00000000-0000-4000-8000-000000000001' };
const TENANT = '00000000-0000-4000-8000-0000000000aa';

const linesIn = async (store: LogStore) => (await store.read(TENANT, SUBJECT)).flatMap((chunk) => chunk.lines);

test('lines are written in order, batched on a timer, and all of them by close', async (t) => {
  const store = new InMemoryLogStore();
  const writer = new LogWriter(
    { logStore: store, logger: new MemoryLogger(), settings: { logFlushMs: 10 } },
    TENANT,
    SUBJECT,
  );
  writer.push('one');
  writer.push('two');
  t.deepEqual(await linesIn(store), [], 'nothing before the flush timer');
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.deepEqual(await linesIn(store), ['one', 'two'], 'the timer wrote them, in one chunk');
  t.is((await store.read(TENANT, SUBJECT)).length, 1);
  writer.push('three');
  await writer.close();
  writer.push('after close');
  await writer.flush();
  t.deepEqual(await linesIn(store), ['one', 'two', 'three']);
});

test('a store that fails never fails the writer: one warning, and the lines after it still go out', async (t) => {
  const store = new InMemoryLogStore();
  let failing = true;
  const flaky: LogStore = {
    append: (...args) => (failing ? Promise.reject(new Error('database down')) : store.append(...args)),
    read: (...args) => store.read(...args),
    remove: (...args) => store.remove(...args),
    removeOlderThan: (...args) => store.removeOlderThan(...args),
  };
  const logger = new MemoryLogger();
  const writer = new LogWriter({ logStore: flaky, logger, settings: { logFlushMs: 1000 } }, TENANT, SUBJECT);
  writer.push('lost');
  await writer.flush();
  writer.push('lost too');
  await writer.flush();
  t.is(logger.entries.filter((entry) => entry.level === 'warn').length, 1);
  failing = false;
  writer.push('kept');
  await writer.close();
  t.deepEqual(await linesIn(store), ['kept']);
});

test('a runaway line is cut, and a writer far behind drops its oldest lines and says so', async (t) => {
  const store = new InMemoryLogStore(undefined, 10_000);
  const writer = new LogWriter(
    { logStore: store, logger: new MemoryLogger(), settings: { logFlushMs: 60_000 } },
    TENANT,
    SUBJECT,
  );
  writer.push('x'.repeat(MAX_LOG_LINE_LENGTH + 100));
  for (let i = 0; i < 300; i += 1) writer.push(`${i}`.padEnd(8000, '.'));
  await writer.close();
  const lines = await linesIn(store);
  t.regex(
    lines.find((line) => line.includes('dropped')) ?? '',
    /^\[\d+ line\(s\) dropped: the log store fell behind\]$/,
  );
  t.false(lines.some((line) => line.length > MAX_LOG_LINE_LENGTH + 20));
  t.true(lines.at(-1)?.startsWith('299'), 'the newest lines are kept');
  t.true(lines.join('').length <= 1024 * 1024 + 200);
});

test('the tail keeps the last characters of a stream of lines', (t) => {
  const tail = new LogTail(10);
  for (const line of ['aaaa', 'bbbb', 'cccc', 'dddd']) tail.push(line);
  t.is(tail.text(), '\ncccc\ndddd', 'the last 10 characters');
});
