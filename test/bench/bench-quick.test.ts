/**
 * `npm run bench -- --quick` runs end to end on the local PostgreSQL and Redis and writes a
 * well-formed results file: every row of issue 11, each number finite (or null where the row says
 * so). No timed assertion: how fast anything is is the benchmark's business, not the tests'.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const RUN = fileURLToPath(new URL('../../../bench/dist/run.js', import.meta.url));
const ROWS = ['health', 'auth_me', 'list_projects', 'list_builds_chain', 'memory', 'jobs'];
const KEYS = ['name', 'value', 'baseline', 'ratio', 'goal', 'p50_ms', 'p99_ms'];
/** Which fields a row may leave null: memory has no baseline nor latency (nor a value without /proc). */
const NULLABLE: Record<string, string[]> = {
  memory: ['value', 'baseline', 'ratio', 'p50_ms', 'p99_ms'],
};

test('npm run bench -- --quick writes every row, well formed', async (t) => {
  t.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  const child = spawn(process.execPath, [RUN, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 0, output);

  const rows = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>[];
  t.true(Array.isArray(rows));
  t.deepEqual(
    rows.map((r) => r.name),
    ROWS,
  );
  for (const row of rows) {
    const name = row.name as string;
    t.deepEqual(Object.keys(row).sort(), [...KEYS].sort(), name);
    t.true(typeof row.goal === 'number' && Number.isFinite(row.goal), `${name}.goal`);
    for (const key of KEYS.filter((k) => k !== 'name' && k !== 'goal')) {
      const value = row[key];
      if (value === null) t.true(NULLABLE[name]?.includes(key) ?? false, `${name}.${key} is null`);
      else t.true(typeof value === 'number' && Number.isFinite(value), `${name}.${key} = ${String(value)}`);
    }
  }
  // The measured pairs carry every number, jobs (builds/s against raw bee-queue jobs/s) included.
  for (const row of rows.filter((r) => !((r.name as string) in NULLABLE))) {
    t.true((row.value as number) > 0 && (row.baseline as number) > 0, `${row.name as string} measured`);
  }
  t.regex(output, /\| list_projects +\|/);
  t.regex(output, /\| jobs +\| [0-9]/);
});
