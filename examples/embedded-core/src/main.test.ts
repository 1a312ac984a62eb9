import test from 'ava';
import { run } from './main.js';

test('the embedded core builds and deploys a service without any server', async (t) => {
  const result = await run();
  t.is(result.build, 'succeeded');
  t.is(result.deployment, 'live');
  t.regex(result.url ?? '', /^https:\/\/api-/);
});
