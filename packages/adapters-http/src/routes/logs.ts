import { type LogSubject, RateLimitedError } from '@shipyard/core';
import { logText, type ReadLog, streamLog } from '../log-stream.js';
import { z } from '../openapi/zod.js';
import { idParams, type RouteDeps } from './route-deps.js';
import { type RouteSpec, route } from './route-spec.js';

// Opaque to clients: what X-Log-Cursor or an event's id said. Printable ASCII, so it is safe in a
// header and in an `id:` field.
const Cursor = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be a cursor from X-Log-Cursor or an event id');

const LogQuery = z.strictObject({
  after: Cursor.optional().openapi({
    description: 'Only the lines written after this cursor (`X-Log-Cursor` of an earlier read, or an event id)',
  }),
  follow: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: '`true`: follow the log as Server-Sent Events (as `Accept: text/event-stream` does)' }),
});

const LogHeaders = z.object({
  'last-event-id': Cursor.or(z.literal('')).optional().openapi({
    description: 'Sent by an EventSource that reconnects: resume after this event (takes precedence over `after`)',
  }),
});

const TEXT = z.string().openapi({ description: 'Every line so far, each ending with a newline', example: 'line 1\n' });
const EVENTS = z.string().openapi({
  description:
    'One event per line (`data: <line>`); the last line of each chunk carries `id: <cursor>`. `: keepalive` ' +
    'comments every 15 s; `event: end` with `data: {"status":"ended"}` once no more lines will come, then the ' +
    'stream closes (close the EventSource then, or it reconnects); `event: error` with `data: {code, message, ' +
    'request_id}` if reading fails once the stream has begun. Reconnecting with `Last-Event-ID` resumes.',
  example:
    'data: Cloning https://github.com/acme/web.git (main)\n\nid: 7\ndata: Build succeeded\n\nevent: end\ndata: {"status":"ended"}\n\n',
});

/**
 * `GET /<kind>s/{id}/logs`: the log so far as text, or followed as Server-Sent Events (with
 * `Accept: text/event-stream` or `?follow=true`). Any role of the tenant may read it.
 */
export function logsRoute(
  { useCases, logStream, logger }: RouteDeps,
  spec: { kind: LogSubject['kind']; tag: string; resource: string; summary: string },
): RouteSpec {
  return route({
    method: 'get',
    path: `/${spec.kind}s/{id}/logs`,
    tag: spec.tag,
    summary: spec.summary,
    description:
      'Plain text by default (`X-Log-Cursor` names where it ends, `X-Log-Ended` whether more can come). With ' +
      '`Accept: text/event-stream` or `?follow=true`, a Server-Sent-Events stream that follows the log until it ' +
      'ends. A viewer may read it.',
    params: idParams(),
    resource: spec.resource,
    query: LogQuery,
    headers: LogHeaders,
    produces: {
      description: 'The log',
      content: { 'text/plain': { schema: TEXT }, 'text/event-stream': { schema: EVENTS } },
      headers: {
        'X-Log-Cursor': {
          description: 'Where the text ends: pass it as `after` to get only newer lines (absent while empty)',
          schema: { type: 'string' },
        },
        'X-Log-Ended': { description: 'No more lines will come (text only)', schema: { type: 'boolean' } },
      },
    },
    handler: async ({ actor, params, query, ctx }) => {
      const subject: LogSubject = { kind: spec.kind, id: params.id };
      const read: ReadLog = (after, limit) =>
        useCases.readLogs.execute(actor, subject, { after, ...(limit === undefined ? {} : { limit }) });
      // Checked with the headers: a reconnecting EventSource names the last event it got.
      const lastEventId = ctx.get('last-event-id');
      const after = lastEventId === '' ? (query.after ?? null) : lastEventId;
      const follow =
        ctx.method === 'GET' &&
        (query.follow === undefined
          ? ctx.accepts('text/plain', 'text/event-stream') === 'text/event-stream'
          : query.follow === 'true');
      ctx.vary('Accept');
      if (follow) {
        // Read once before the stream begins: a missing or foreign id is still an ordinary 404.
        const first = await read(after, logStream.batchSize);
        if (!logStream.open.take(actor.userId, logStream)) {
          throw new RateLimitedError(5, 'Too many logs followed at once: close one, or read the log as text');
        }
        streamLog(ctx, first, read, logStream, logger, () => logStream.open.release(actor.userId));
        return;
      }
      const page = await read(after);
      ctx.status = 200;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      if (page.cursor !== null) ctx.set('X-Log-Cursor', page.cursor);
      ctx.set('X-Log-Ended', String(page.ended));
      ctx.body = logText(page);
    },
  });
}
