import type { Clock } from '../ports/clock.port.js';

/** A clock that moves only when told to (or by `autoAdvanceMs` on every read). */
export class FixedClock implements Clock {
  private current: number;

  constructor(
    start: Date | string = '2026-01-01T00:00:00.000Z',
    private readonly autoAdvanceMs = 0,
  ) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    const now = new Date(this.current);
    this.current += this.autoAdvanceMs;
    return now;
  }

  set(date: Date | string): void {
    this.current = new Date(date).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
