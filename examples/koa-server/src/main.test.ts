import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface Started {
  child: ChildProcess;
  port: number;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts the real server process on a free port with a throwaway DATA_DIR. */
async function start(env: Record<string, string> = {}): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-main-'));
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk) => {
      buffer += String(chunk);
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        lines.push(line);
        if (typeof line.port === 'number' && line.port > 0) resolve(line.port);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, port, lines, exited };
}

test('the server starts with no configuration, answers /health, and stops cleanly on SIGTERM', async (t) => {
  const server = await start();
  const base = `http://127.0.0.1:${server.port}`;
  const health = await fetch(`${base}/health`);
  t.is(health.status, 200);
  t.is(((await health.json()) as { status: string }).status, 'healthy');
  const listening = server.lines.find((l) => typeof l.port === 'number');
  t.truthy(listening?.database, 'the start-up log says which database is used');
  t.truthy(listening?.queue, 'the start-up log says which queue is used');
  t.regex(String(listening?.docs), /\/docs$/);
  t.true(
    server.lines.some((l) => String(l.msg).includes('JWT_SECRET is not set')),
    'generated secrets are warned about',
  );

  server.child.kill('SIGTERM');
  t.is(await server.exited, 0);
  t.true(server.lines.some((l) => l.msg === 'stopped'));
});

/** Runs the server process to its exit; returns the exit code and everything it printed. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: unknown) => {
    output += String(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

test('a bad variable stops the process with a message naming it', async (t) => {
  const { code, output } = await runToExit({ PORT: 'eighty', ACCESS_TOKEN_TTL: 'soon' });
  t.is(code, 1);
  t.regex(output, /PORT/);
  t.regex(output, /ACCESS_TOKEN_TTL/);
});

test('production refuses to start without JWT_SECRET and ENCRYPTION_KEYS', async (t) => {
  const { code, output } = await runToExit({ NODE_ENV: 'production', PORT: '0' });
  t.is(code, 1);
  t.regex(output, /JWT_SECRET/);
  t.regex(output, /ENCRYPTION_KEYS/);
});

test('with pending migrations on PostgreSQL the server refuses to start, naming the fix', async (t) => {
  const { createScratchPostgres } = await import('@shipyard/adapters-db/testing');
  const scratch = await createScratchPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'shipyard-main-'));
  t.teardown(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await scratch.drop();
  });
  for (const env of <Record<string, string>[]>[
    {
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
    },
    { NODE_ENV: 'development' },
  ]) {
    const { code, output } = await runToExit({ PORT: '0', DATA_DIR: dataDir, DATABASE_URL: scratch.url, ...env });
    t.is(code, 1);
    t.regex(output, /migration\(s\) pending/);
    t.regex(output, /npm run migrate/);
  }
});
