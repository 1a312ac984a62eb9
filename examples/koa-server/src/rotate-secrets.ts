import { pino } from 'pino';
import { composeRuntime, StartupError } from './compose.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * `npm run secrets:rotate`: re-encrypts every stored secret under the first key of
 * ENCRYPTION_KEYS, in batches. Safe to interrupt and to run again; once it has finished, the
 * old keys can be removed from ENCRYPTION_KEYS.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'shipyard-rotate-secrets' } });
  let runtime: Awaited<ReturnType<typeof composeRuntime>>;
  try {
    runtime = await composeRuntime(config, logger, 'maintenance');
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
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

main().catch((error: unknown) => {
  process.stderr.write(
    `Secret rotation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
