import { randomBytes } from 'node:crypto';
import test from 'ava';
import { AesGcmEncryptor } from './aes-gcm-encryptor.js';

const key = (id: string) => ({ id, key: randomBytes(32) });

test('a value round-trips under its context, with a fresh nonce every time', async (t) => {
  const encryptor = new AesGcmEncryptor([key('a')]);
  const one = await encryptor.encrypt('s3cret', 'service-env:t1:s1:API_KEY');
  const two = await encryptor.encrypt('s3cret', 'service-env:t1:s1:API_KEY');
  t.not(one, two);
  t.false(one.includes('s3cret'));
  t.is(AesGcmEncryptor.keyIdOf(one), 'a');
  t.is(await encryptor.decrypt(one, 'service-env:t1:s1:API_KEY'), 's3cret');
  t.is(await encryptor.decrypt(two, 'service-env:t1:s1:API_KEY'), 's3cret');
});

test('a ciphertext moved to another row or tenant does not decrypt', async (t) => {
  const encryptor = new AesGcmEncryptor([key('a')]);
  const sealed = await encryptor.encrypt('s3cret', 'service-env:t1:s1:API_KEY');
  await t.throwsAsync(encryptor.decrypt(sealed, 'service-env:t1:s2:API_KEY'), { code: 'internal_error' });
  await t.throwsAsync(encryptor.decrypt(sealed, 'service-env:t2:s1:API_KEY'), { code: 'internal_error' });
});

test('a tampered ciphertext is an error, never a wrong or empty value', async (t) => {
  const encryptor = new AesGcmEncryptor([key('a')]);
  const sealed = await encryptor.encrypt('s3cret', 'ctx');
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3] ?? '', 'base64url');
  body[0] = (body[0] ?? 0) ^ 1;
  const tampered = [parts[0], parts[1], parts[2], body.toString('base64url')].join('.');
  await t.throwsAsync(encryptor.decrypt(tampered, 'ctx'), { code: 'internal_error' });
  await t.throwsAsync(encryptor.decrypt('plain text', 'ctx'), { code: 'internal_error' });
});

test('the first key encrypts, every listed key decrypts; a removed key no longer does', async (t) => {
  const a = key('a');
  const b = key('b');
  const old = await new AesGcmEncryptor([a]).encrypt('s3cret', 'ctx');
  const rotated = new AesGcmEncryptor([b, a]);
  t.is(await rotated.decrypt(old, 'ctx'), 's3cret');
  const fresh = await rotated.encrypt('s3cret', 'ctx');
  t.is(AesGcmEncryptor.keyIdOf(fresh), 'b');
  const withoutA = new AesGcmEncryptor([b]);
  t.is(await withoutA.decrypt(fresh, 'ctx'), 's3cret');
  await t.throwsAsync(withoutA.decrypt(old, 'ctx'), { code: 'internal_error' });
});

test('keys must be 32 bytes with a safe id', (t) => {
  t.throws(() => new AesGcmEncryptor([{ id: 'a', key: randomBytes(16) }]));
  t.throws(() => new AesGcmEncryptor([{ id: 'a.b', key: randomBytes(32) }]));
  t.throws(() => new AesGcmEncryptor([]));
  t.throws(() => new AesGcmEncryptor([key('a'), key('a')]), { message: /distinct/ });
});
