import { type Logger, pino } from 'pino';
import { StartupError } from './compose.js';
import { type Config, ConfigError, loadConfig } from './config.js';

/** Reads the configuration; a bad one ends the process with the message naming the variables. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** A JSON logger for one of the processes, with the configuration's warnings written first. */
export function processLogger(config: Config, service: string): Logger {
  const logger = pino({ level: config.logLevel, base: { service } });
  for (const warning of config.warnings) logger.warn(warning);
  return logger;
}

/** Runs a start-up step; a `StartupError` ends the process with its message, nothing more. */
export async function orExit<T>(logger: Logger, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StartupError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Ends the process on an unexpected failure, with the stack on stderr. */
export function exitOnFailure(what: string): (error: unknown) => void {
  return (error) => {
    process.stderr.write(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
}
