import { InternalServerError } from '../domain/app.errors.js';
import type { Encryptor } from '../ports/encryptor.port.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Not encryption (the value is only encoded), but it keeps the port's rules: the context is
 * bound in, a ciphertext of another context or a tampered one fails. For tests only.
 */
export class FakeEncryptor implements Encryptor {
  async encrypt(plaintext: string, context: string): Promise<string> {
    return `fake:${b64(context)}:${b64(plaintext)}`;
  }

  needsRotation(ciphertext: string): boolean {
    return !ciphertext.startsWith('fake:');
  }

  async decrypt(ciphertext: string, context: string): Promise<string> {
    const [scheme, boundContext, value, ...rest] = ciphertext.split(':');
    if (scheme !== 'fake' || boundContext !== b64(context) || value === undefined || rest.length > 0) {
      throw new InternalServerError('A secret could not be decrypted');
    }
    return Buffer.from(value, 'base64url').toString('utf8');
  }
}
