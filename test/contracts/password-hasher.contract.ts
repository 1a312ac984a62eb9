import type { PasswordHasher } from '@shipyard/core';
import test from 'ava';

export interface PasswordHasherSubject {
  hasher: PasswordHasher;
  /**
   * Whether its hashes keep the password: salted (two hashes of one password differ) and not
   * showing it. A fast fake for tests says false.
   */
  secret: boolean;
}

const PASSWORDS = ['correct horse battery', 'ünïcødé ✓ 秘密 pässwörd', ' spaces around ', 'p'.repeat(256)];

/**
 * The contract of every `PasswordHasher`: the right password verifies, any other is false (never
 * a throw), and a stored hash that is malformed verifies nothing. With `secret`, also salting and
 * not showing the password, which only a real hash keeps.
 */
export function passwordHasherContract(
  label: string,
  factory: () => Promise<PasswordHasherSubject> | PasswordHasherSubject,
): void {
  const name = `${label} password hasher`;

  test(`${name}: the password verifies against its hash`, async (t) => {
    const { hasher } = await factory();
    for (const password of PASSWORDS) t.true(await hasher.verify(await hasher.hash(password), password), password);
  });

  test(`${name}: another password is false, never an error`, async (t) => {
    const { hasher } = await factory();
    const hash = await hasher.hash('correct horse battery');
    for (const wrong of ['correct horse batterY', 'Correct horse battery', 'correct horse battery ', '', 'x']) {
      t.false(await hasher.verify(hash, wrong), JSON.stringify(wrong));
    }
    t.false(await hasher.verify(await hasher.hash('another one'), 'correct horse battery'));
  });

  test(`${name}: a malformed stored hash verifies nothing`, async (t) => {
    const { hasher } = await factory();
    for (const stored of [
      '',
      'not a hash',
      '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB',
      'fake$ not base64!',
      'scrypt$1$1$1$a$b',
    ]) {
      t.false(await hasher.verify(stored, 'correct horse battery'), JSON.stringify(stored));
      t.false(await hasher.verify(stored, ''), JSON.stringify(stored));
    }
  });

  test(`${name}: a hash is salted and does not show the password`, async (t) => {
    const { hasher, secret } = await factory();
    if (!secret) return t.pass('not secret: fast and reversible (for tests)');
    const one = await hasher.hash('correct horse battery');
    t.not(await hasher.hash('correct horse battery'), one);
    t.false(one.includes('correct horse battery'));
    t.false(one.includes(Buffer.from('correct horse battery').toString('base64url').slice(0, 12)));
  });
}
