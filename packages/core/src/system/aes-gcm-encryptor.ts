import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InternalServerError } from '../domain/app.errors.js';
import type { Encryptor } from '../ports/encryptor.port.js';

export interface EncryptionKey {
  /** Short id written into every ciphertext, so the right key is found after a rotation. */
  id: string;
  /** 32 random bytes. */
  key: Uint8Array;
}

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * AES-256-GCM with a fresh 96-bit nonce per value and the caller's context (row id, tenant,
 * field) as associated data. Ciphertexts read `v1.<key id>.<nonce>.<ciphertext+tag>`
 * (base64url). The first key encrypts; every listed key decrypts, so keys rotate without
 * downtime. Any failure to decrypt (unknown key, tampering, wrong context) is an error.
 */
export class AesGcmEncryptor implements Encryptor {
  private readonly keys: Map<string, Uint8Array>;
  private readonly current: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const [first] = keys;
    if (first === undefined) throw new Error('AesGcmEncryptor needs at least one key');
    for (const key of keys) {
      if (!KEY_ID.test(key.id)) throw new Error(`encryption key id "${key.id}" must match ${KEY_ID}`);
      if (key.key.byteLength !== 32) throw new Error(`encryption key ${key.id} must be 32 bytes`);
    }
    this.current = first;
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    if (this.keys.size !== keys.length) throw new Error('encryption key ids must be distinct');
  }

  /** The id of the key new values are encrypted with. */
  get currentKeyId(): string {
    return this.current.id;
  }

  /** The key id a ciphertext was made with, or null when it is not in this format. */
  static keyIdOf(ciphertext: string): string | null {
    const parts = ciphertext.split('.');
    return parts.length === 4 && parts[0] === VERSION ? (parts[1] ?? null) : null;
  }

  needsRotation(ciphertext: string): boolean {
    return AesGcmEncryptor.keyIdOf(ciphertext) !== this.current.id;
  }

  async encrypt(plaintext: string, context: string): Promise<string> {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.current.id, nonce.toString('base64url'), body.toString('base64url')].join('.');
  }

  async decrypt(ciphertext: string, context: string): Promise<string> {
    const [version, keyId, nonceText, bodyText, ...rest] = ciphertext.split('.');
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (version !== VERSION || key === undefined || nonceText === undefined || bodyText === undefined || rest.length) {
      throw new InternalServerError('A secret could not be decrypted (unknown format or key)');
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
      throw new InternalServerError('A secret could not be decrypted (malformed)');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch (error) {
      throw new InternalServerError('A secret could not be decrypted (tampered, or bound to another row)', {
        cause: error,
      });
    }
  }
}
