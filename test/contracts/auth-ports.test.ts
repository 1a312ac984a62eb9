import { randomBytes } from 'node:crypto';
import { AesGcmEncryptor, RandomIdGenerator } from '@shipyard/core';
import {
  FakeEncryptor,
  FakeOAuthProvider,
  FakePasswordHasher,
  FakeTokenIssuer,
  FixedClock,
} from '@shipyard/core/testing';
import { encryptorContract } from './encryptor.contract.js';
import { oauthProviderContract } from './oauth-provider.contract.js';
import { passwordHasherContract } from './password-hasher.contract.js';
import { tokenIssuerContract } from './token-issuer.contract.js';

// The core's encryptor and the fakes of @shipyard/core/testing against the contracts the real
// adapters pass (those of @shipyard/adapters-http run in test/http/auth-ports-contract.test.ts):
// a fake that drifts from its port fails here.

tokenIssuerContract('fake', () => {
  const clock = new FixedClock();
  const ids = new RandomIdGenerator();
  const issuer = new FakeTokenIssuer(clock, ids);
  return {
    issuer,
    refreshTokenTtlSeconds: issuer.refreshTokenTtlSeconds,
    now: () => clock.now(),
    elapse: (ms) => clock.advance(ms),
    stranger: () => new FakeTokenIssuer(clock, ids),
  };
});

const key = (id: string) => ({ id, key: randomBytes(32) });

encryptorContract('AES-256-GCM', () => {
  const current = key('k1');
  return {
    encryptor: new AesGcmEncryptor([current]),
    confidential: true,
    rotated: () => new AesGcmEncryptor([key('k2'), current]),
  };
});

// Only encodes (not confidential), and has no keys to rotate.
encryptorContract('fake', () => ({ encryptor: new FakeEncryptor(), confidential: false }));

// Fast and reversible: neither salted nor hiding the password.
passwordHasherContract('fake', () => ({ hasher: new FakePasswordHasher(), secret: false }));

oauthProviderContract('fake', async () => {
  const provider = new FakeOAuthProvider();
  let codes = 0;
  return {
    provider,
    approve: async (identity, grant) => {
      codes += 1;
      const code = `code-${codes}`;
      provider.grant(code, identity, { codeVerifier: grant.codeVerifier });
      return code;
    },
  };
});
