import { randomUUID } from 'node:crypto';
import type { TokenBlacklist } from '@shipyard/core';
import test from 'ava';

export interface BlacklistSubject {
  blacklist: TokenBlacklist;
  /** The time the blacklist reads (to express expiries), and a way to let time pass. */
  now: () => Date;
  /** Lets `ms` pass for the blacklist (moves a fake clock, or waits for a real store). */
  elapse: (ms: number) => Promise<void>;
  /** A blacklist on the same kind of store that cannot be reached. */
  unreachable: () => Promise<TokenBlacklist>;
  close?: () => Promise<void>;
}

/** The contract of every `TokenBlacklist`: remembered until expiry, forgotten after, fail closed. */
export function tokenBlacklistContract(label: string, factory: () => Promise<BlacklistSubject>): void {
  const name = `${label} token blacklist`;
  let subject: BlacklistSubject | undefined;
  test.before(async () => {
    subject = await factory();
  });
  test.after.always(async () => {
    await subject?.close?.();
  });
  const get = () => {
    if (subject === undefined) throw new Error('the blacklist factory did not run');
    return subject;
  };

  test(`${name}: a revoked token id is remembered; others are not`, async (t) => {
    const { blacklist, now } = get();
    const revoked = randomUUID();
    t.false(await blacklist.hasAny([revoked]));
    await blacklist.add(revoked, new Date(now().getTime() + 60_000));
    t.true(await blacklist.hasAny([revoked]));
    t.false(await blacklist.hasAny([randomUUID()]));
  });

  test(`${name}: several ids are one question: revoked when any of them is`, async (t) => {
    const { blacklist, now } = get();
    const revoked = randomUUID();
    await blacklist.add(revoked, new Date(now().getTime() + 60_000));
    t.true(await blacklist.hasAny([randomUUID(), revoked]));
    t.true(await blacklist.hasAny([revoked, randomUUID()]));
    t.false(await blacklist.hasAny([randomUUID(), randomUUID()]));
    t.false(await blacklist.hasAny([]));
  });

  test(`${name}: an entry is forgotten once its token has expired`, async (t) => {
    const { blacklist, now, elapse } = get();
    const revoked = randomUUID();
    await blacklist.add(revoked, new Date(now().getTime() + 1000));
    t.true(await blacklist.hasAny([revoked]));
    await elapse(1500);
    t.false(await blacklist.hasAny([revoked]));
  });

  test(`${name}: adding a token that has already expired stores nothing`, async (t) => {
    const { blacklist, now } = get();
    const old = randomUUID();
    await blacklist.add(old, new Date(now().getTime() - 1000));
    t.false(await blacklist.hasAny([old]));
  });

  test(`${name}: an unreachable store rejects with service_unavailable (fail closed)`, async (t) => {
    const broken = await get().unreachable();
    await t.throwsAsync(broken.hasAny([randomUUID()]), { code: 'service_unavailable' });
    await t.throwsAsync(broken.add(randomUUID(), new Date(Date.now() + 60_000)), { code: 'service_unavailable' });
  });
}
