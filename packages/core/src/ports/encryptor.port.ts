/**
 * Authenticated encryption of secrets at rest. `context` is bound into the ciphertext as
 * associated data (row id, tenant, field): a ciphertext moved to another context fails to
 * decrypt. A failure to decrypt rejects; it never yields the ciphertext or an empty value.
 */
export interface Encryptor {
  encrypt(plaintext: string, context: string): Promise<string>;
  decrypt(ciphertext: string, context: string): Promise<string>;
  /** Whether a stored ciphertext was made with another key than the current one. */
  needsRotation(ciphertext: string): boolean;
}
