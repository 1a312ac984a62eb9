import type { Encryptor } from '@shipyard/core';
import test from 'ava';

export interface EncryptorSubject {
  encryptor: Encryptor;
  /**
   * Whether it keeps secrets: the ciphertext shows nothing of the plaintext, two encryptions of
   * one value differ, and a ciphertext changed anywhere fails. A fake that only encodes says false.
   */
  confidential: boolean;
  /**
   * An encryptor with a new current key that still lists this one's: absent for an encryptor
   * that has no keys to rotate.
   */
  rotated?: () => Encryptor;
}

const decryptFailure = { code: 'internal_error' } as const;

const SECRETS = ['postgres://user:pa55@db/app', '', 'ünïcødé ✓ 秘密', 'x'.repeat(100_000), 'a:b.c$d'];

/**
 * The contract of every `Encryptor`, as the use cases rely on it: values come back as they went
 * in, only in the context they were encrypted for; anything else (another context, a value that
 * is no ciphertext) rejects and never yields the input or an empty value; a fresh ciphertext needs
 * no rotation. With `confidential`, also the promises only real encryption keeps.
 */
export function encryptorContract(label: string, factory: () => Promise<EncryptorSubject> | EncryptorSubject): void {
  const name = `${label} encryptor`;

  test(`${name}: a value decrypts back in its own context`, async (t) => {
    const { encryptor } = await factory();
    for (const secret of SECRETS) {
      const ciphertext = await encryptor.encrypt(secret, 'service:1:env');
      t.is(await encryptor.decrypt(ciphertext, 'service:1:env'), secret);
    }
  });

  test(`${name}: a ciphertext moved to another context fails to decrypt`, async (t) => {
    const { encryptor } = await factory();
    const ciphertext = await encryptor.encrypt('s3cret', 'service:1:env');
    for (const context of ['service:2:env', 'service:1:env:', 'service:1', '']) {
      await t.throwsAsync(encryptor.decrypt(ciphertext, context), decryptFailure, JSON.stringify(context));
    }
  });

  test(`${name}: what is not a ciphertext of it is refused, never handed back`, async (t) => {
    const { encryptor } = await factory();
    for (const value of ['s3cret', '', 'v1.k1.abc.def', 'fake:abc:def', 'a.b.c.d.e']) {
      await t.throwsAsync(encryptor.decrypt(value, 'service:1:env'), decryptFailure, JSON.stringify(value));
    }
  });

  test(`${name}: a fresh ciphertext needs no rotation`, async (t) => {
    const { encryptor } = await factory();
    t.false(encryptor.needsRotation(await encryptor.encrypt('s3cret', 'service:1:env')));
  });

  test(`${name}: after a key rotation old ciphertexts still decrypt and ask for rotation`, async (t) => {
    const { encryptor, rotated } = await factory();
    if (rotated === undefined) return t.pass('no keys to rotate');
    const old = await encryptor.encrypt('s3cret', 'service:1:env');
    const next = rotated();
    t.true(next.needsRotation(old));
    t.is(await next.decrypt(old, 'service:1:env'), 's3cret');
    const renewed = await next.encrypt('s3cret', 'service:1:env');
    t.false(next.needsRotation(renewed));
    await t.throwsAsync(encryptor.decrypt(renewed, 'service:1:env'), decryptFailure, 'the old key cannot read the new');
  });

  test(`${name}: the ciphertext keeps the secret and any change to it is detected`, async (t) => {
    const { encryptor, confidential } = await factory();
    if (!confidential) return t.pass('not confidential: only encodes (for tests)');
    const secret = 'postgres://user:pa55word@db/app';
    const one = await encryptor.encrypt(secret, 'service:1:env');
    const two = await encryptor.encrypt(secret, 'service:1:env');
    t.not(one, two, 'two encryptions of one value differ');
    t.false(one.includes('pa55word'));
    t.false(one.includes(Buffer.from(secret).toString('base64url').slice(0, 12)));
    for (let at = 0; at < one.length; at += 1) {
      const char = one[at] as string;
      if (!/[A-Za-z0-9]/.test(char)) continue;
      const changed = `${one.slice(0, at)}${char === 'A' ? 'B' : 'A'}${one.slice(at + 1)}`;
      // Only the unused low bits of a base64url group's last character may change without effect.
      const decrypted = await encryptor.decrypt(changed, 'service:1:env').catch(() => null);
      t.true(decrypted === null || decrypted === secret, `changed at ${at}`);
      if (decrypted === secret)
        t.true(at === one.length - 1 || one[at + 1] === '.', `only an end may be slack (${at})`);
    }
  });
}
