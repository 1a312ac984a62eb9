import test from 'ava';
import { pino } from 'pino';
import { HealthProbe } from './health.js';

const silent = pino({ level: 'silent' });

test('the probes run at most once per max age; requests in between read the last report', async (t) => {
  let now = 0;
  let calls = 0;
  const check = async () => {
    calls += 1;
  };
  const probe = new HealthProbe([{ name: 'database', check }], silent, {
    timeoutMs: 100,
    maxAgeMs: 1000,
    now: () => now,
  });
  const first = await probe.report();
  t.deepEqual(first.checks, { database: 'ok' });
  t.is(first.body, '{"status":"healthy","checks":{"database":"ok"}}');
  now = 999;
  t.is(await probe.report(), first);
  t.is(calls, 1);
  now = 1000;
  await probe.report();
  t.is(calls, 2);
});

test('requests that arrive during a probe share it; an outage shows at the next probe', async (t) => {
  let now = 0;
  let calls = 0;
  let down = false;
  const probe = new HealthProbe(
    [
      {
        name: 'redis',
        check: async () => {
          calls += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (down) throw new Error('down');
        },
      },
    ],
    silent,
    { timeoutMs: 1000, maxAgeMs: 1000, now: () => now },
  );
  const [a, b] = await Promise.all([probe.report(), probe.report()]);
  t.is(a, b);
  t.is(calls, 1);
  down = true;
  now = 1500;
  const later = await probe.report();
  t.false(later.healthy);
  t.is(later.body, '{"status":"unhealthy","checks":{"redis":"down"}}');
});

test('a check that does not answer in time is down', async (t) => {
  const probe = new HealthProbe([{ name: 'database', check: () => new Promise<void>(() => {}) }], silent, {
    timeoutMs: 30,
    maxAgeMs: 1000,
  });
  const report = await probe.report();
  t.deepEqual(report.checks, { database: 'down' });
});
