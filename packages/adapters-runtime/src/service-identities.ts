import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { RunAs } from './runtime.types.js';
import { RuntimeSetupError } from './setup-error.js';

export interface ServiceIdentitiesOptions {
  /** The assignments live in `<workRoot>/uids.json` (the runtime's work root). */
  workRoot: string;
  /** The first uid handed out. Default 200000. */
  base?: number;
  /** How many uids from `base` may be handed out. Default 100000. */
  size?: number;
  /**
   * Files whose ids are taken (uids of /etc/passwd, gids of /etc/group): never handed out, so a
   * service never becomes a user or group of the machine. Default `['/etc/passwd', '/etc/group']`.
   */
  systemFiles?: readonly string[];
}

interface UidsFile {
  version: 1;
  /** serviceId → uid (its gid is the same number). */
  uids: Record<string, number>;
}

const DEFAULT_BASE = 200_000;
const DEFAULT_SIZE = 100_000;
/** The highest valid id: 2^32 - 1 is (uid_t) -1, "no change". */
const MAX_ID = 2 ** 32 - 2;

/**
 * Allocations of one file, made one at a time across every `ServiceIdentities` of this process
 * (two of them on the same work root must not hand the same uid to two services).
 */
const chains = new Map<string, Promise<unknown>>();

/**
 * The uid/gid of each service's builds and apps when the server runs as root: one of its own per
 * service (gid = uid), handed out in order from a range and kept for good in
 * `<workRoot>/uids.json` (written whole to a temporary file, then renamed over it), so a service
 * keeps its uid across builds, deployments, rollbacks and restarts.
 *
 * Give the build runner and the process runtime the same instance (an app runs in its build's
 * directory, which belongs to the service's uid). Two instances on the same file agree as well:
 * a service not yet known is looked up in the file again before a uid is handed out, and
 * allocations of one file are serialized within this process. Processes do not lock the file
 * against each other: one process at a time owns a work root.
 */
export class ServiceIdentities {
  readonly file: string;
  readonly base: number;
  readonly size: number;
  private readonly systemFiles: readonly string[];
  /** What the file held when last read or written: assignments never change once made. */
  private known: Map<string, number> | null = null;

  constructor(options: ServiceIdentitiesOptions) {
    this.file = join(resolve(options.workRoot), 'uids.json');
    this.base = options.base ?? DEFAULT_BASE;
    this.size = options.size ?? DEFAULT_SIZE;
    if (!Number.isSafeInteger(this.base) || this.base < 1 || !Number.isSafeInteger(this.size) || this.size < 1) {
      throw new RuntimeSetupError(`A uid range is a positive base and size, not ${this.base} and ${this.size}`);
    }
    if (this.base + this.size - 1 > MAX_ID) {
      throw new RuntimeSetupError(`The uid range ${this.describeRange()} goes past the highest uid, ${MAX_ID}`);
    }
    this.systemFiles = options.systemFiles ?? ['/etc/passwd', '/etc/group'];
  }

  /** `200000–299999`. */
  describeRange(): string {
    return `${this.base}–${this.base + this.size - 1}`;
  }

  /** The service's uid and gid, handed out (and written down) the first time it is asked for. */
  async identityOf(serviceId: string): Promise<RunAs> {
    if (typeof serviceId !== 'string' || serviceId === '' || serviceId.length > 256) {
      throw new TypeError('A service needs a serviceId to get a uid');
    }
    const cached = this.known?.get(serviceId);
    if (cached !== undefined) return { uid: cached, gid: cached };
    const uid = await this.serialized(async () => {
      // Another instance (or an earlier owner of the work root) may have written it since.
      const known = await this.load();
      const existing = known.get(serviceId);
      if (existing !== undefined) return existing;
      const next = this.nextFree(known);
      const updated = new Map(known).set(serviceId, next);
      await this.write(updated);
      this.known = updated;
      return next;
    });
    return { uid, gid: uid };
  }

  /** The service a uid was handed to, if any (the file is read again when it is not known here). */
  async serviceOf(uid: number): Promise<string | null> {
    const find = (known: Map<string, number> | null): string | null => {
      for (const [serviceId, assigned] of known ?? []) if (assigned === uid) return serviceId;
      return null;
    };
    return find(this.known) ?? find(await this.serialized(() => this.load()));
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const previous = chains.get(this.file) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => {});
    chains.set(this.file, settled);
    void settled.then(() => {
      if (chains.get(this.file) === settled) chains.delete(this.file);
    });
    return run;
  }

  private async load(): Promise<Map<string, number>> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.known = new Map();
      return this.known;
    }
    let parsed: UidsFile;
    try {
      parsed = JSON.parse(text) as UidsFile;
    } catch {
      throw this.corrupt('not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.version !== 1) throw this.corrupt('no version 1');
    if (typeof parsed.uids !== 'object' || parsed.uids === null) throw this.corrupt('no uids');
    const known = new Map<string, number>();
    const owners = new Map<number, string>();
    for (const [serviceId, uid] of Object.entries(parsed.uids)) {
      if (!Number.isSafeInteger(uid) || uid < 1 || uid > MAX_ID) throw this.corrupt(`uid ${uid} of ${serviceId}`);
      const other = owners.get(uid);
      if (other !== undefined) throw this.corrupt(`uid ${uid} is both ${other}'s and ${serviceId}'s`);
      owners.set(uid, serviceId);
      known.set(serviceId, uid);
    }
    this.known = known;
    return known;
  }

  private corrupt(why: string): RuntimeSetupError {
    // Never start over: a service would get another uid than the one its artifacts belong to.
    return new RuntimeSetupError(`The services' uids (${this.file}) cannot be read (${why}): restore or fix the file`);
  }

  /** The first free uid after the highest handed out in the range (else the first free one anywhere in it). */
  private nextFree(known: Map<string, number>): number {
    const taken = new Set(known.values());
    const system = this.systemIds();
    const end = this.base + this.size;
    const free = (uid: number) => !taken.has(uid) && !system.has(uid);
    let highest = this.base - 1;
    for (const uid of taken) if (uid >= this.base && uid < end && uid > highest) highest = uid;
    for (let uid = highest + 1; uid < end; uid += 1) if (free(uid)) return uid;
    for (let uid = this.base; uid <= highest; uid += 1) if (free(uid)) return uid;
    throw new RuntimeSetupError(
      `Every uid of the range ${this.describeRange()} is handed out (${this.file}): give the runtime a larger range`,
    );
  }

  /** Ids of the machine's users and groups (a service gets neither). */
  private systemIds(): Set<number> {
    const ids = new Set<number>();
    for (const file of this.systemFiles) {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const id = line.split(':')[2];
        if (id !== undefined && /^\d+$/.test(id)) ids.add(Number(id));
      }
    }
    return ids;
  }

  /** The whole file to a temporary one beside it, flushed, then renamed over it. */
  private async write(known: Map<string, number>): Promise<void> {
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    const body: UidsFile = { version: 1, uids: Object.fromEntries(known) };
    const temp = `${this.file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    // The rename itself is durable once the directory is flushed too.
    const directory = await open(dir, 'r').catch(() => null);
    await directory
      ?.sync()
      .catch(() => {})
      .finally(() => directory.close());
  }
}
