/**
 * The OpenAPI document the server serves (`GET /openapi.json` of the real composition, on a
 * throwaway embedded database) passes `redocly lint` with the recommended rules (redocly.yaml)
 * without an error. Warnings are allowed and printed. Redocly runs offline: telemetry and update
 * notices off, and any connection or DNS lookup it tries is refused and fails the test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { existsInRepo, ROOT } from './repo.js';

const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');

/** Loaded before Redocly: every outgoing connection or name lookup is refused and reported. */
const OFFLINE = `data:text/javascript,${encodeURIComponent(`
import dns from 'node:dns';
import net from 'node:net';
const refuse = (what) => {
  process.stderr.write('NETWORK ATTEMPT: ' + what + '\\n');
  return new Error('network access is disabled in this test: ' + what);
};
net.Socket.prototype.connect = function (...args) {
  const target = typeof args[0] === 'object' ? JSON.stringify(args[0]) : String(args[0]);
  queueMicrotask(() => this.destroy(refuse('connect ' + target)));
  return this;
};
dns.lookup = (host, ...rest) => rest.at(-1)(refuse('lookup ' + host));
dns.promises.lookup = async (host) => { throw refuse('lookup ' + host); };
globalThis.fetch = async (url) => { throw refuse('fetch ' + url); };
`)}`;

interface Composition {
  app: { callback(): Parameters<typeof createServer>[1] };
  close(): Promise<void>;
}

interface KoaServer {
  loadConfig(env: Record<string, string>): { logLevel: string };
  composeServer(config: unknown, logger: unknown): Promise<Composition>;
  processLogger(config: unknown, service: string): unknown;
}

/** `GET /openapi.json` of the server's own composition (development: production serves none). */
async function servedDocument(dataDir: string): Promise<string> {
  const dist = new URL('../../../examples/koa-server/dist/', import.meta.url);
  const { loadConfig } = (await import(new URL('config.js', dist).href)) as KoaServer;
  const { composeServer } = (await import(new URL('compose.js', dist).href)) as KoaServer;
  const { processLogger } = (await import(new URL('bootstrap.js', dist).href)) as KoaServer;
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, RUNTIME: 'simulated', LOG_LEVEL: 'silent' });
  const composition = await composeServer(config, processLogger(config, 'openapi-lint'));
  const server = createServer(composition.app.callback());
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
    return await response.text();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await composition.close();
  }
}

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
}

test('redocly lint (recommended) finds no error in the served OpenAPI document, offline', async (t) => {
  t.timeout(120_000);
  t.true(existsInRepo('node_modules/@redocly/cli/bin/cli.js'), 'npm ci installs @redocly/cli');
  const dir = mkdtempSync(join(tmpdir(), 'shipyard-openapi-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const document = await servedDocument(join(dir, 'data'));
  const file = join(dir, 'openapi.json');
  writeFileSync(file, document);
  t.is(JSON.parse(document).openapi, '3.1.0');

  const child = spawn(
    process.execPath,
    ['--import', OFFLINE, REDOCLY, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json'],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
        REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
        CI: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.notRegex(stderr, /NETWORK ATTEMPT/, 'Redocly tried to reach the network');
  const report = JSON.parse(stdout) as LintReport;
  const describe = (severity: string) =>
    report.problems
      .filter((p) => p.severity === severity)
      .map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`);
  t.deepEqual(describe('error'), [], 'errors');
  t.is(report.totals.errors, 0);
  t.is(code, 0, stderr);
  const warnings = describe('warn');
  if (warnings.length > 0) t.log(`${warnings.length} warning(s):\n${[...new Set(warnings)].join('\n')}`);
});

test('the offline guard refuses connections, lookups and fetch', async (t) => {
  const probe = `
    import net from 'node:net';
    import dns from 'node:dns';
    await fetch('http://registry.invalid/').catch(() => {});
    await new Promise((resolve) => net.connect(443, '192.0.2.1').on('error', resolve));
    await new Promise((resolve) => dns.lookup('registry.invalid', resolve));
  `;
  const child = spawn(process.execPath, ['--import', OFFLINE, '--input-type=module', '-e', probe], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 0, stderr);
  t.regex(stderr, /NETWORK ATTEMPT: fetch http:\/\/registry\.invalid\//);
  t.regex(stderr, /NETWORK ATTEMPT: connect .*443/);
  t.regex(stderr, /NETWORK ATTEMPT: lookup registry\.invalid/);
});
