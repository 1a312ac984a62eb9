import { repoUrlWithCredentials } from '../domain/repo-url.js';
import type { Service } from '../domain/service.entity.js';
import type { Encryptor } from '../ports/encryptor.port.js';

/** The associated data an env var is encrypted under: the tenant, the service row and the name. */
export const envContext = (tenantId: string, serviceId: string, name: string): string =>
  `service-env:${tenantId}:${serviceId}:${name}`;

export const MASK = '****';

/** The associated data a repository's credentials are encrypted under. */
export const repoCredentialsContext = (tenantId: string, serviceId: string): string =>
  `service-repo:${tenantId}:${serviceId}`;

/** The URL to clone: the stored one with its credentials decrypted back in. */
export async function cloneUrl(encryptor: Encryptor, tenantId: string, service: Service): Promise<string> {
  if (service.repoCredentials === null) return service.repoUrl;
  const credentials = await encryptor.decrypt(service.repoCredentials, repoCredentialsContext(tenantId, service.id));
  return repoUrlWithCredentials(service.repoUrl, credentials);
}

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
