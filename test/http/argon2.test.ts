import { Argon2PasswordHasher } from '@shipyard/adapters-http';
import test from 'ava';

test('argon2id with the OWASP parameters; a right password verifies, a wrong one does not', async (t) => {
  const hasher = new Argon2PasswordHasher();
  const hash = await hasher.hash('correct horse battery');
  t.regex(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  t.not(await hasher.hash('correct horse battery'), hash, 'salted');
  t.true(await hasher.verify(hash, 'correct horse battery'));
  t.false(await hasher.verify(hash, 'correct horse batterY'));
  t.false(await hasher.verify('not a hash', 'correct horse battery'));
});
