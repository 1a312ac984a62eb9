import { randomBytes } from 'node:crypto';
import test from 'ava';
import { AesGcmEncryptor } from '../system/aes-gcm-encryptor.js';
import { TestHarness } from '../testing/harness.js';
import { createUseCases } from './create-use-cases.js';

const keyA = { id: 'a', key: randomBytes(32) };
const keyB = { id: 'b', key: randomBytes(32) };

/** A harness whose use cases encrypt with `encryptor` (swappable, like restarting with new keys). */
async function world(services: number) {
  const harness = new TestHarness();
  const withKeys = (encryptor: AesGcmEncryptor) => createUseCases({ ...harness.deps, encryptor });
  const before = withKeys(new AesGcmEncryptor([keyA]));
  const owner = await harness.signUp();
  const project = await before.createProject.execute(owner.principal, { name: 'web' });
  const ids: string[] = [];
  for (let i = 0; i < services; i += 1) {
    const service = await before.createService.execute(owner.principal, project.id, {
      name: `svc-${i}`,
      repoUrl: 'https://git.example.test/acme/app.git',
    });
    await before.setServiceEnv.execute(owner.principal, service.id, { TOKEN: `secret-${i}`, MODE: 'prod' });
    ids.push(service.id);
  }
  return { harness, owner, ids, withKeys };
}

test('rotation from key A to B re-encrypts every value; afterwards A can be removed', async (t) => {
  const { harness, owner, ids, withKeys } = await world(3);
  const rotating = withKeys(new AesGcmEncryptor([keyB, keyA]));
  const report = await rotating.rotateSecrets.execute({ batchSize: 2 });
  t.is(report.servicesUpdated, 3);
  t.is(report.reencrypted, 6);
  const onlyB = new AesGcmEncryptor([keyB]);
  for (const [i, id] of ids.entries()) {
    const service = await harness.useCases.getService.execute(owner.principal, id);
    t.is(AesGcmEncryptor.keyIdOf(service.env.TOKEN ?? ''), 'b');
    t.is(
      await onlyB.decrypt(service.env.TOKEN ?? '', `service-env:${owner.principal.tenantId}:${id}:TOKEN`),
      `secret-${i}`,
    );
  }
  const again = await rotating.rotateSecrets.execute({ batchSize: 2 });
  t.is(again.reencrypted, 0, 'a second run has nothing left to do');
});

test('an interrupted rotation keeps what it did and the next run finishes the rest', async (t) => {
  const { harness, owner, ids, withKeys } = await world(5);
  const target = new AesGcmEncryptor([keyB, keyA]);
  let budget = 4;
  // Fails part-way, as a crash or a lost connection would.
  const flaky = Object.assign(Object.create(target) as AesGcmEncryptor, {
    encrypt: async (plaintext: string, context: string) => {
      budget -= 1;
      if (budget < 0) throw new Error('interrupted');
      return target.encrypt(plaintext, context);
    },
  });
  await t.throwsAsync(withKeys(flaky).rotateSecrets.execute({ batchSize: 1 }), { message: 'interrupted' });
  const keyIds = async () =>
    Promise.all(
      ids.map(async (id) => {
        const service = await harness.useCases.getService.execute(owner.principal, id);
        return Object.values(service.env).map((c) => AesGcmEncryptor.keyIdOf(c));
      }),
    );
  const midway = (await keyIds()).flat();
  t.true(midway.includes('a') && midway.includes('b'), 'part done, part not');
  for (const perService of await keyIds())
    t.is(new Set(perService).size, 1, 'a service is rotated whole or not at all');

  await withKeys(target).rotateSecrets.execute({ batchSize: 1 });
  t.deepEqual(new Set((await keyIds()).flat()), new Set(['b']));
});
