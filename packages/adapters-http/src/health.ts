import { withTimeout } from '@shipyard/core';
import type { Logger } from 'pino';

/** A dependency `GET /health` asks; `check` rejects (or times out) when it is down. */
export interface HealthCheck {
  name: string;
  check: () => Promise<void>;
}

export interface HealthReport {
  healthy: boolean;
  checks: Record<string, 'ok' | 'down'>;
  /** The response body (`{"status", "checks"}`), serialised once per probe. */
  body: string;
}

/**
 * The dependency probes behind `GET /health`, run at most once per `maxAgeMs`: a request reads
 * the last report while it is that fresh, and otherwise waits for the next probe (one at a time,
 * shared by every request that arrives meanwhile). An outage shows within `maxAgeMs` plus one
 * probe's timeout, and a flood of health checks costs the database and Redis nothing extra.
 */
export class HealthProbe {
  private last: { report: HealthReport; at: number } | undefined;
  private running: Promise<HealthReport> | undefined;

  constructor(
    private readonly checks: readonly HealthCheck[],
    private readonly logger: Logger,
    private readonly options: { timeoutMs: number; maxAgeMs: number; now?: () => number },
  ) {}

  report(): HealthReport | Promise<HealthReport> {
    const now = this.options.now?.() ?? Date.now();
    if (this.last !== undefined && now - this.last.at < this.options.maxAgeMs) return this.last.report;
    this.running ??= this.probe().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async probe(): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), this.options.timeoutMs, (ms) => new Error(`no answer in ${ms} ms`));
          return [name, 'ok'] as const;
        } catch (error) {
          this.logger.warn({ check: name, err: error }, 'health check failed');
          return [name, 'down'] as const;
        }
      }),
    );
    const healthy = results.every(([, state]) => state === 'ok');
    const checks = Object.fromEntries(results);
    const report: HealthReport = {
      healthy,
      checks,
      body: JSON.stringify({ status: healthy ? 'healthy' : 'unhealthy', checks }),
    };
    // Stamped when the answers are in: a slow probe does not make its report look older.
    this.last = { report, at: this.options.now?.() ?? Date.now() };
    return report;
  }
}
