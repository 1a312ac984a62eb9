import { DefaultLogger, type LogContext, type LoggerNamespace, type LoggerOptions } from '@mikro-orm/core';
import type { Logger } from '@shipyard/core';

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes MikroORM adds to some lines
const ANSI_ESCAPES = /\x1b\[[0-9;]*m/g;

/** MikroORM's log lines, sent to the core's logger: warnings and errors always, the rest on debug. */
export class OrmLogger extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly target: Logger,
  ) {
    super(options);
  }

  override log(namespace: LoggerNamespace, message: string, context?: LogContext): void {
    const level = context?.level;
    if (level !== 'warning' && level !== 'error' && !this.isEnabled(namespace, context)) return;
    const text = message.replace(ANSI_ESCAPES, '');
    const fields = context?.took === undefined ? { namespace } : { namespace, took_ms: context.took };
    if (level === 'error') this.target.error(fields, text);
    else if (level === 'warning') this.target.warn(fields, text);
    else this.target.debug(fields, text);
  }
}
