import { isStaleWrite, type Logger, type RelayOutbox, ServiceUnavailableError } from '@shipyard/core';

export interface OutboxRelayOptions {
  relay: Pick<RelayOutbox, 'execute'>;
  /** Pause between two runs when nobody nudges. */
  intervalMs: number;
  logger: Logger;
  /** Messages per run; a full batch runs again at once. Default 100. */
  batchSize?: number;
}

export interface OutboxRelayHandle {
  /** Runs the relay soon (after a commit that wrote outbox rows). Never runs two at once. */
  nudge(): void;
  /** Stops the timer and waits for the current run. */
  stop(): Promise<void>;
}

/**
 * A failed run, at the level it deserves: relays racing each other is normal (debug), the
 * database or the queue being unavailable is the outage the outbox is there for (warn; the rows
 * wait), anything else is a bug or a surprise (error).
 */
function logFailure(logger: Logger, error: unknown): void {
  if (isStaleWrite(error)) logger.debug({ err: error }, 'outbox relay run lost a write race; the next run goes on');
  else if (error instanceof ServiceUnavailableError) {
    logger.warn({ err: error }, 'outbox relay run failed: the database or the queue is unavailable; will retry');
  } else logger.error({ err: error }, 'outbox relay run failed');
}

/**
 * Runs `RelayOutbox` every `intervalMs` and whenever nudged. A nudge during a run makes one more
 * run right after it; a failed run is logged (see `logFailure`) and the next one comes at the
 * usual time.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelayHandle {
  const { relay, intervalMs, logger } = options;
  const batchSize = options.batchSize ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const arm = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(trigger, intervalMs);
    // The relay alone must not keep a process alive (the server or worker does).
    timer.unref();
  };

  const loop = async () => {
    do {
      again = false;
      try {
        const report = await relay.execute({ batchSize });
        if (report.published > 0) logger.debug({ published: report.published }, 'outbox relayed');
        if (report.published >= batchSize && !report.blocked) again = true;
      } catch (error) {
        logFailure(logger, error);
      }
    } while (again && !stopped);
  };

  function trigger(): void {
    if (stopped) return;
    if (current !== undefined) {
      again = true;
      return;
    }
    clearTimeout(timer);
    current = loop().finally(() => {
      current = undefined;
      // A nudge that came after the loop's last check.
      if (again) trigger();
      else arm();
    });
  }

  arm();
  return {
    nudge: trigger,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
