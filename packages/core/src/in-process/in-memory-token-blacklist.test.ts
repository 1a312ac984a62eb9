import test from 'ava';
import { FixedClock } from '../testing/fixed-clock.js';
import { InMemoryTokenBlacklist } from './in-memory-token-blacklist.js';

test('expired entries are dropped as new ones come, so the blacklist stays bounded', async (t) => {
  const clock = new FixedClock();
  const blacklist = new InMemoryTokenBlacklist(clock);
  for (let round = 0; round < 5; round += 1) {
    for (let i = 0; i < 2000; i += 1) await blacklist.add(`r${round}-${i}`, new Date(clock.now().getTime() + 1000));
    clock.advance(2000);
  }
  t.true(blacklist.size < 5000, `held ${blacklist.size} entries`);
  t.false(await blacklist.hasAny(['r0-0']));
});
