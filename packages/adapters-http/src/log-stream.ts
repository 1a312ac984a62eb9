import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError, type LogChunk, type LogPage } from '@shipyard/core';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { STATUS_OF } from './middleware/error.middleware.js';

/** How `GET …/logs` follows a log as Server-Sent Events. */
export interface LogStreamOptions {
  /** Milliseconds between two reads of the log store while following (default 250). */
  pollIntervalMs?: number;
  /** Milliseconds between two `: keepalive` comments (default 15 s), so proxies keep the stream open. */
  keepAliveMs?: number;
  /**
   * Milliseconds a stream may stay open (default 1 h); then it ends without an `end` event and an
   * EventSource reconnects with `Last-Event-ID`, where it left off.
   */
  maxDurationMs?: number;
  /** Chunks read at once (default 64); a read that returns that many is followed at once by the next. */
  batchSize?: number;
  /** Ends every open stream (e.g. on shutdown), like `maxDurationMs` does: clients reconnect elsewhere. */
  signal?: AbortSignal;
  /** Streams one user may hold open at once (default 10); one more is a 429. */
  maxStreamsPerUser?: number;
  /** Streams open at once in this process (default 1000); one more is a 429. */
  maxStreams?: number;
}

/** The streams open now, to hold them to their limits. */
export class OpenStreams {
  private total = 0;
  private readonly byUser = new Map<string, number>();

  /** Takes a place for `userId`'s stream; `false` when a limit is reached. `release` gives it back. */
  take(userId: string, limits: { maxStreams: number; maxStreamsPerUser: number }): boolean {
    const mine = this.byUser.get(userId) ?? 0;
    if (this.total >= limits.maxStreams || mine >= limits.maxStreamsPerUser) return false;
    this.total += 1;
    this.byUser.set(userId, mine + 1);
    return true;
  }

  release(userId: string): void {
    this.total -= 1;
    const mine = (this.byUser.get(userId) ?? 1) - 1;
    if (mine <= 0) this.byUser.delete(userId);
    else this.byUser.set(userId, mine);
  }
}

export type LogStreamSettings = Required<Omit<LogStreamOptions, 'signal'>> &
  Pick<LogStreamOptions, 'signal'> & { open: OpenStreams };

export const resolveLogStream = (options: LogStreamOptions = {}): LogStreamSettings => ({
  pollIntervalMs: options.pollIntervalMs ?? 250,
  keepAliveMs: options.keepAliveMs ?? 15_000,
  // A stream is authorised once, at its start: a reconnect every 15 min checks the session again.
  maxDurationMs: options.maxDurationMs ?? 900_000,
  batchSize: options.batchSize ?? 64,
  maxStreamsPerUser: options.maxStreamsPerUser ?? 10,
  maxStreams: options.maxStreams ?? 1000,
  open: new OpenStreams(),
  ...(options.signal === undefined ? {} : { signal: options.signal }),
});

/** Reads the log after a cursor (`null`: from its start), at most `limit` chunks when given. */
export type ReadLog = (after: string | null, limit?: number) => Promise<LogPage>;

/** The whole log (or what came after a cursor) as text: every line ends with `\n`. */
export const logText = (page: LogPage): string => {
  const lines = page.chunks.flatMap((chunk) => chunk.lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
};

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * One event of the stream. A value holding CR or LF is cut into several `data:` fields (the
 * client joins them with `\n`), so nothing in a log line can start another field or event; an id
 * loses those characters (and NUL, which would make a client ignore it).
 */
export function sseEvent(event: { event?: string; id?: string; data?: string }): string {
  let text = '';
  if (event.event !== undefined) text += `event: ${event.event.replace(/[\r\n]/g, '')}\n`;
  if (event.id !== undefined) text += `id: ${event.id.replace(/[\r\n\0]/g, '')}\n`;
  if (event.data !== undefined) for (const part of event.data.split(LINE_BREAK)) text += `data: ${part}\n`;
  return `${text}\n`;
}

/** A chunk's lines, one event each; the last one carries the chunk's cursor as its id. */
export function chunkEvents(chunk: LogChunk): string {
  if (chunk.lines.length === 0) return sseEvent({ id: chunk.cursor });
  return chunk.lines
    .map((line, index) =>
      sseEvent(index === chunk.lines.length - 1 ? { id: chunk.cursor, data: line } : { data: line }),
    )
    .join('');
}

const END_EVENT = sseEvent({ event: 'end', data: JSON.stringify({ status: 'ended' }) });

/**
 * Answers with a Server-Sent-Events stream of the log, from `first` (read before, so that a
 * 401/403/404 is an ordinary error response) on: the lines of every chunk as they are written,
 * then `event: end` once the log ended. Reads every `pollIntervalMs` with the last cursor; stops
 * at once when the client goes away; ends after `maxDurationMs` or when `signal` aborts; a read
 * that fails once the stream has begun ends it with `event: error`.
 */
export function streamLog(
  ctx: Context,
  first: LogPage,
  read: ReadLog,
  settings: LogStreamSettings,
  logger: Logger,
  onEnd: () => void = () => {},
): void {
  const res = ctx.res;
  const stop = new AbortController();
  const signal = stop.signal;
  const abort = () => stop.abort();
  ctx.req.once('close', abort);
  res.once('close', abort);
  settings.signal?.addEventListener('abort', abort, { once: true });
  if (settings.signal?.aborted === true) abort();

  // The stream is written to the socket here, past Koa's response handling, so no middleware can
  // hold it back (koa-compress would wait for a body; it is also told `ctx.compress = false`).
  // No socket timeout, no Nagle, no proxy buffering (nginx honours X-Accel-Buffering).
  ctx.req.socket?.setTimeout(0);
  ctx.req.socket?.setNoDelay(true);
  (ctx as { compress?: boolean }).compress = false;
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.respond = false;
  res.flushHeaders();

  const open = () => !signal.aborted && !res.writableEnded && !res.destroyed;
  const write = async (text: string): Promise<void> => {
    if (!open() || text === '') return;
    if (!res.write(text)) await once(res, 'drain', { signal });
  };
  const keepAlive = setInterval(() => {
    if (open()) res.write(': keepalive\n\n');
  }, settings.keepAliveMs);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    abort();
  }, settings.maxDurationMs);

  const run = async (): Promise<void> => {
    let page = first;
    let cursor = first.cursor;
    for (;;) {
      await write(page.chunks.map(chunkEvents).join(''));
      cursor = page.cursor ?? cursor;
      const more = page.chunks.length >= settings.batchSize;
      // `ended` is read before the chunks: when it is set, this read had every line there is.
      if (page.ended && !more) {
        await write(END_EVENT);
        return;
      }
      if (!more) await sleep(settings.pollIntervalMs, undefined, { signal });
      if (signal.aborted) return;
      page = await read(cursor, settings.batchSize);
      if (signal.aborted) return;
    }
  };

  run()
    .catch(async (error: unknown) => {
      if (signal.aborted) return; // the client left (or the time is up): nothing to tell
      const log = { req_id: ctx.state.requestId, method: ctx.method, path: ctx.path };
      let code = 'internal_error';
      let message = 'Internal server error';
      if (isAppError(error)) {
        code = error.code;
        const status = STATUS_OF[error.code];
        if (status < 500 || code === 'service_unavailable' || code === 'bad_gateway') message = error.message;
        if (status < 500) logger.info({ ...log, code }, `log stream ended: ${error.message}`);
        else logger.error({ ...log, err: error, code }, 'log stream failed');
      } else {
        logger.error({ ...log, err: error }, 'log stream failed');
      }
      await write(
        sseEvent({ event: 'error', data: JSON.stringify({ code, message, request_id: ctx.state.requestId }) }),
      ).catch(() => undefined);
    })
    .finally(() => {
      onEnd();
      clearInterval(keepAlive);
      clearTimeout(deadline);
      settings.signal?.removeEventListener('abort', abort);
      ctx.req.off('close', abort);
      res.off('close', abort);
      if (!res.writableEnded && !res.destroyed) {
        res.end(timedOut ? ': stream time limit reached, reconnect to go on\n\n' : undefined);
      }
    });
}
