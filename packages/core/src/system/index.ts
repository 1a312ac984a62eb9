// The only place where the core touches Node built-ins: defaults of ports that need them.
export { AesGcmEncryptor, type EncryptionKey } from './aes-gcm-encryptor.js';
export { CryptoSecretGenerator } from './crypto-secret-generator.js';
export { LogMailer } from './log-mailer.js';
export { RandomIdGenerator } from './random-id-generator.js';
export { SilentLogger } from './silent-logger.js';
export { SystemClock } from './system-clock.js';
