import test from 'ava';
import { withTimeout } from './with-timeout.js';

test('withTimeout settles as the promise does when it is in time, with its value or its error', async (t) => {
  t.is(await withTimeout(Promise.resolve(7), 1000, () => new Error('late')), 7);
  await t.throwsAsync(
    withTimeout(Promise.reject(new Error('own')), 1000, () => new Error('late')),
    {
      message: 'own',
    },
  );
});

test('withTimeout rejects with the error it is given, built with the milliseconds, once time is up', async (t) => {
  let built = 0;
  const never = new Promise<never>(() => {});
  const error = await t.throwsAsync(
    withTimeout(never, 20, (ms) => {
      built += 1;
      return new RangeError(`no answer in ${ms} ms`);
    }),
  );
  t.true(error instanceof RangeError);
  t.is(error?.message, 'no answer in 20 ms');
  t.is(built, 1);
});
