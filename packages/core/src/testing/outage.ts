import { ServiceUnavailableError } from '../domain/app.errors.js';
import type { JobQueue } from '../ports/job-queue.port.js';
import type { TokenBlacklist } from '../ports/token-blacklist.port.js';

/** The switch of a wrapped port's outage. */
export interface Outage {
  /** From now on the gated calls reject, as those of an unreachable store do. */
  begin(): void;
  /** Calls reach the port again. */
  end(): void;
  /** Whether the outage is on. */
  readonly on: boolean;
}

/** A port whose calls an outage can make fail: the port itself, plus its `outage` switch. */
export type WithOutage<P> = P & { readonly outage: Outage };

/**
 * Wraps `port` so that, while `outage.begin()` is in force, each of `methods` rejects with
 * `unavailable` (a message: a `ServiceUnavailableError`; or a function making the error) without
 * reaching the port, as the port's real adapter does when its store cannot be reached. Everything
 * else (other members, `instanceof`) is the port's own. For tests only: an adapter has no such switch.
 */
export function withOutage<P extends object>(
  port: P,
  unavailable: string | (() => Error),
  methods: readonly (keyof P)[],
): WithOutage<P> {
  if ('outage' in port) throw new TypeError('withOutage: the port already has an `outage` member');
  const error = typeof unavailable === 'string' ? () => new ServiceUnavailableError(unavailable) : unavailable;
  let on = false;
  const outage: Outage = {
    begin: () => {
      on = true;
    },
    end: () => {
      on = false;
    },
    get on() {
      return on;
    },
  };
  const gated = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  for (const name of methods) {
    const method = port[name];
    if (typeof method !== 'function') throw new TypeError(`withOutage: ${String(name)} is not a method of the port`);
    gated.set(name, (...args) => (on ? Promise.reject(error()) : Reflect.apply(method, port, args)));
  }
  return new Proxy(port, {
    get(target, property) {
      if (property === 'outage') return outage;
      const wrapped = gated.get(property);
      if (wrapped !== undefined) return wrapped;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (target, property) => property === 'outage' || Reflect.has(target, property),
  }) as WithOutage<P>;
}

/** A token blacklist whose outage rejects both methods as an unreachable store does (fail closed). */
export const withBlacklistOutage = <B extends TokenBlacklist>(blacklist: B): WithOutage<B> =>
  withOutage(blacklist, 'The token blacklist is unavailable', ['add', 'hasAny'] as (keyof B)[]);

/** A job queue whose outage rejects publishing and asking, as an unreachable queue does. */
export const withJobQueueOutage = <Q extends JobQueue>(queue: Q): WithOutage<Q> =>
  withOutage(queue, 'The job queue is unavailable', ['enqueue', 'liveJobs'] as (keyof Q)[]);
