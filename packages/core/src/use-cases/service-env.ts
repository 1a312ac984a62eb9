import type { Encryptor } from '../ports/encryptor.port.js';

/** The associated data an env var is encrypted under: the tenant, the service row and the name. */
export const envContext = (tenantId: string, serviceId: string, name: string): string =>
  `service-env:${tenantId}:${serviceId}:${name}`;

export const MASK = '****';

export async function decryptEnv(
  encryptor: Encryptor,
  tenantId: string,
  serviceId: string,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(env).map(
      async ([name, ciphertext]) =>
        [name, await encryptor.decrypt(ciphertext, envContext(tenantId, serviceId, name))] as const,
    ),
  );
  return Object.fromEntries(entries);
}
