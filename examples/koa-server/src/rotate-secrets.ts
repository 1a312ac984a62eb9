import { exitOnFailure, loadConfigOrExit, orExit, processLogger } from './bootstrap.js';
import { composeRuntime } from './compose.js';

/**
 * `npm run secrets:rotate`: re-encrypts every stored secret under the first key of
 * ENCRYPTION_KEYS, in batches. Safe to interrupt and to run again; once it has finished, the
 * old keys can be removed from ENCRYPTION_KEYS.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = processLogger(config, 'shipyard-rotate-secrets');
  const runtime = await orExit(logger, () => composeRuntime(config, logger, 'maintenance'));
  try {
    const report = await runtime.useCases.rotateSecrets.execute({ batchSize: 100 });
    logger.info(
      { ...report, current_key: config.encryptionKeys[0]?.id },
      'every secret is now under the current key; older keys can be removed from ENCRYPTION_KEYS',
    );
  } finally {
    await runtime.close();
  }
}

main().catch(exitOnFailure('Secret rotation failed'));
