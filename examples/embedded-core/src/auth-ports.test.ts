import { randomBytes, randomUUID } from 'node:crypto';
import { RandomIdGenerator } from '@shipyard/core';
import test from 'ava';
import { HmacTokenIssuer, ScryptPasswordHasher } from './auth-ports.js';

test('the scrypt hasher salts, verifies the right password and refuses a wrong or malformed one', async (t) => {
  const hasher = new ScryptPasswordHasher({ log2N: 14, r: 8, p: 1 });
  const hash = await hasher.hash('correct horse battery');
  t.regex(hash, /^scrypt\$14\$8\$1\$/);
  t.not(await hasher.hash('correct horse battery'), hash, 'salted');
  t.true(await hasher.verify(hash, 'correct horse battery'));
  t.false(await hasher.verify(hash, 'correct horse batterY'));
  t.false(await hasher.verify('not a hash', 'correct horse battery'));
  t.false(await hasher.verify(hash.replace('$14$', '$40$'), 'correct horse battery'), 'out-of-range cost');
});

test('the HMAC issuer: kinds apart, expiry, tampering and another secret refused', async (t) => {
  let now = Date.now();
  const clock = { now: () => new Date(now) };
  const issuer = new HmacTokenIssuer({ secret: randomBytes(32), clock, ids: new RandomIdGenerator() });
  const claims = {
    userId: randomUUID(),
    tenantId: randomUUID(),
    role: 'admin' as const,
    sessionId: randomUUID(),
    sessionEpoch: 2,
  };
  const access = await issuer.issueAccess(claims);
  t.like(await issuer.verifyAccess(access.token), { ...claims, tokenId: access.tokenId });
  const refresh = await issuer.issueRefresh({
    userId: claims.userId,
    tenantId: claims.tenantId,
    tokenId: randomUUID(),
    familyId: randomUUID(),
  });
  t.is((await issuer.verifyRefresh(refresh.token)).tokenId, refresh.tokenId);
  await t.throwsAsync(issuer.verifyRefresh(access.token), { code: 'authentication_error' });
  await t.throwsAsync(issuer.verifyAccess(refresh.token), { code: 'authentication_error' });
  const [body, mac] = access.token.split('.');
  const forged = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(body ?? '', 'base64url').toString()), role: 'owner' }),
  );
  await t.throwsAsync(issuer.verifyAccess(`${forged.toString('base64url')}.${mac}`), { code: 'authentication_error' });
  const other = new HmacTokenIssuer({ secret: randomBytes(32), clock, ids: new RandomIdGenerator() });
  await t.throwsAsync(other.verifyAccess(access.token), { code: 'authentication_error' });
  now += issuer.accessTokenTtlSeconds * 1000;
  await t.throwsAsync(issuer.verifyAccess(access.token), { code: 'authentication_error', message: 'Token expired' });
});
