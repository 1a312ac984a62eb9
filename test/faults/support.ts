/**
 * Helpers of the fault suites: real server and worker processes (each in its own process group,
 * killed whole in teardown), a scratch Redis server of their own (to flush, kill and restart), a
 * TCP proxy in front of the shared PostgreSQL (to cut it), a scratch database, and a small HTTP
 * client that drives the platform as a user does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '@shipyard/adapters-db';
import { createScratchPostgres, type ScratchPostgres } from '@shipyard/adapters-db/testing';
import type { Logger } from '@shipyard/core';
import { tcpProxy as sharedTcpProxy, type TcpProxy } from '../queue/tcp-proxy.js';

/** What a test registers its cleanups with (ava's `t.teardown`). */
export type Teardown = (fn: () => Promise<void> | void) => void;

export const SERVER_SCRIPT = fileURLToPath(new URL('../../../examples/koa-server/dist/main.js', import.meta.url));
export const WORKER_SCRIPT = fileURLToPath(new URL('../../../examples/koa-server/dist/worker.js', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every `intervalMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<number> {
  const start = Date.now();
  const deadline = start + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return Date.now() - start;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const tempDir = (teardown: Teardown, prefix = 'shipyard-faults-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** A pino line (or `{ raw }` for anything else a process printed). */
export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every line printed so far, stdout and stderr. */
  readonly lines: LogLine[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Kills the whole process group and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with the first line (already printed or to come) that matches. */
  line(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
}

/** Kills the process group of `child` (it was spawned detached, so it leads its own group). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs `command` in a process group of its own, collecting its output; killed in teardown. */
export function spawnProcess(
  teardown: Teardown,
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
): Proc {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let buffer = '';
    stream?.on('data', (chunk) => {
      buffer += String(chunk);
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const text = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        if (text.trim() === '') continue;
        let line: LogLine;
        try {
          const parsed = JSON.parse(text) as unknown;
          line = typeof parsed === 'object' && parsed !== null ? (parsed as LogLine) : { raw: text };
        } catch {
          line = { raw: text };
        }
        lines.push(line);
        for (const wake of waiters) wake();
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (alive()) killGroup(child, signal);
    await exited;
    // Whatever the process started is in its group too.
    killGroup(child, 'SIGKILL');
  };
  teardown(async () => {
    await kill('SIGKILL');
    // FAULTS_LOG_DIR=/some/dir keeps every process's output, for looking into a failure.
    const dir = process.env.FAULTS_LOG_DIR;
    if (dir !== undefined && dir !== '') {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}-${child.pid}.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n'));
    }
  });
  const line = (match: (line: LogLine) => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<LogLine>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (!alive()) {
          finish();
          reject(new Error(`${name} exited before ${what}:\n${tail(lines)}`));
        }
      };
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      timer = setTimeout(() => {
        finish();
        reject(new Error(`${name}: timed out waiting for ${what}:\n${tail(lines)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { name, child, lines, exited, alive, kill, line };
}

const tail = (lines: LogLine[], n = 30) =>
  lines
    .slice(-n)
    .map((l) => JSON.stringify(l))
    .join('\n');

/** Secrets and settings shared by every process of one scenario. */
export function scenarioEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    RUNTIME: 'simulated',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

export interface Server extends Proc {
  port: number;
  base: string;
}

/** `npm start`: waits for the line that gives the port. */
export async function startServer(teardown: Teardown, name: string, env: Record<string, string>): Promise<Server> {
  const proc = spawnProcess(teardown, name, process.execPath, [SERVER_SCRIPT], env);
  const listening = await proc.line((l) => typeof l.port === 'number' && l.port > 0, 'the server to listen', 40_000);
  const port = listening.port as number;
  return Object.assign(proc, { port, base: `http://127.0.0.1:${port}` });
}

/** `npm run worker`: waits until it takes jobs. */
export async function startWorkerProcess(teardown: Teardown, name: string, env: Record<string, string>): Promise<Proc> {
  const proc = spawnProcess(teardown, name, process.execPath, [WORKER_SCRIPT], env);
  await proc.line((l) => l.msg === 'worker started' && l.database !== undefined, 'the worker to start', 40_000);
  return proc;
}

/** Sends one command to a Redis server on 127.0.0.1:`port`; resolves with the raw reply. */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no reply`));
    }, 5_000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      reply += String(chunk);
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

export interface ScratchRedis {
  readonly port: number;
  readonly url: string;
  /** FLUSHDB: the queue loses every job. */
  flush(): Promise<void>;
  /** Kills the server (SIGKILL, no persistence: it comes back empty). */
  kill(): Promise<void>;
  /** Starts a new, empty server on the same port. */
  start(): Promise<void>;
}

/** A Redis server of the test's own (no persistence), on a free port, killed in teardown. */
export async function scratchRedis(teardown: Teardown): Promise<ScratchRedis> {
  const port = await freePort();
  let proc: Proc | undefined;
  const start = async () => {
    proc = spawnProcess(
      teardown,
      `redis-${port}`,
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { PATH: process.env.PATH ?? '' },
    );
    await waitUntil(
      async () => (await redisCommand(port, 'PING')).startsWith('+PONG'),
      'redis-server to answer',
      10_000,
      50,
    );
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async flush() {
      const reply = await redisCommand(port, 'FLUSHDB');
      if (!reply.startsWith('+OK')) throw new Error(`FLUSHDB: ${reply}`);
    },
    async kill() {
      await proc?.kill('SIGKILL');
    },
    start,
  };
}

export type { TcpProxy };

/** A TCP proxy on 127.0.0.1 to `target`, stopped in teardown. */
export async function tcpProxy(teardown: Teardown, target: { host: string; port: number }): Promise<TcpProxy> {
  const proxy = await sharedTcpProxy(target);
  teardown(proxy.stop);
  return proxy;
}

export const POSTGRES = { host: '127.0.0.1', port: 5432 };

/** A migrated scratch database on the shared PostgreSQL, dropped in teardown. */
export async function migratedPostgres(teardown: Teardown): Promise<ScratchPostgres> {
  const scratch = await createScratchPostgres({ prefix: 'shipyard_faults' });
  teardown(() => scratch.drop());
  const database = await createDatabase({ url: scratch.url, pool: { min: 0, max: 2 } });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  return scratch;
}

/** `url` with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export interface WireBuild {
  id: string;
  service_id: string;
  status: BuildStatus;
  attempt: number;
  logs: string;
  error: string | null;
}
export interface WireService {
  id: string;
  status: string;
}

export const FINAL: readonly BuildStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A user of the API: one tenant, its owner's token. */
export class Api {
  private token = '';

  constructor(public base: string) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    expected?: number,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(this.token === '' ? {} : { authorization: `Bearer ${this.token}` }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const parsed = (text === '' ? undefined : JSON.parse(text)) as T;
    if (expected !== undefined && response.status !== expected) {
      throw new Error(`${method} ${path}: ${response.status} (expected ${expected}): ${text}`);
    }
    return { status: response.status, body: parsed };
  }

  /** Registers a new tenant and keeps its owner's token. */
  async register(): Promise<this> {
    const n = randomBytes(4).toString('hex');
    const { body } = await this.request<{ access_token: string }>(
      'POST',
      '/auth/register',
      { tenant_name: `Faults ${n}`, email: `owner-${n}@example.test`, password: 'correct horse battery' },
      201,
    );
    this.token = body.access_token;
    return this;
  }

  /** The header that signs a request in as this user. */
  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  /** The same user, on another server. */
  on(base: string): Api {
    const other = new Api(base);
    other.token = this.token;
    return other;
  }

  async project(name = 'Website'): Promise<string> {
    return (await this.request<{ id: string }>('POST', '/projects', { name }, 201)).body.id;
  }

  async service(projectId: string, name: string): Promise<string> {
    const { body } = await this.request<{ id: string }>(
      'POST',
      `/projects/${projectId}/services`,
      { name, repo_url: 'https://github.com/acme/api.git' },
      201,
    );
    return body.id;
  }

  async triggerBuild(serviceId: string): Promise<WireBuild> {
    return (await this.request<WireBuild>('POST', `/services/${serviceId}/builds`, {}, 202)).body;
  }

  async build(id: string): Promise<WireBuild> {
    return (await this.request<WireBuild>('GET', `/builds/${id}`, undefined, 200)).body;
  }

  async getService(id: string): Promise<WireService> {
    return (await this.request<WireService>('GET', `/services/${id}`, undefined, 200)).body;
  }

  /** Every build in `ids`, read now. */
  builds(ids: readonly string[]): Promise<WireBuild[]> {
    return Promise.all(ids.map((id) => this.build(id)));
  }
}

/** Lines that say `build job done` with `outcome: succeeded`, per build id, across `procs`. */
export function successesByBuild(procs: readonly Proc[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const proc of procs) {
    for (const line of proc.lines) {
      if (line.msg === 'build job done' && line.outcome === 'succeeded') {
        const id = String(line.build_id);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** Lines at level error or worse (pino 50+), or printed outside pino, across `procs`. */
export function errorLines(procs: readonly Proc[]): string[] {
  return procs.flatMap((p) =>
    p.lines.filter((l) => (l.level ?? 0) >= 50 || 'raw' in l).map((l) => `${p.name}: ${JSON.stringify(l)}`),
  );
}

/** A summary of builds for assertion messages. */
export const describeBuilds = (builds: readonly WireBuild[]): string =>
  builds.map((b) => `${b.id.slice(0, 8)} ${b.status} attempt ${b.attempt}${b.error ? ` (${b.error})` : ''}`).join('; ');

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** The core's `Logger` as pino lines on stdout, for fixtures (the parent reads them as `Proc.lines`). */
export class StdoutLogger implements Logger {
  constructor(private readonly bindings: object = {}) {}
  debug(fields: object, message?: string) {
    this.write('debug', fields, message);
  }
  info(fields: object, message?: string) {
    this.write('info', fields, message);
  }
  warn(fields: object, message?: string) {
    this.write('warn', fields, message);
  }
  error(fields: object, message?: string) {
    this.write('error', fields, message);
  }
  child(bindings: object): Logger {
    return new StdoutLogger({ ...this.bindings, ...bindings });
  }
  private write(level: keyof typeof LEVELS, fields: object, message?: string) {
    if (level === 'debug') return;
    const plain = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, v instanceof Error ? { message: v.message, name: v.name } : v]),
    );
    process.stdout.write(
      `${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, ...this.bindings, ...plain, msg: message })}\n`,
    );
  }
}
