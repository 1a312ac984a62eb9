import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestApp } from './fixture.js';

/** One dispatched event, as an EventSource sees it (`data` fields joined with `\n`). */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * A Server-Sent-Events client over a real socket (supertest waits for the end of a body): the
 * app listens on 127.0.0.1 for the stream's lifetime. Parses events as the HTML standard says
 * and keeps the comments (`: keepalive`) apart.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Every byte received, as text. */
  raw = '';
  closed = false;
  private buffer = '';
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    private readonly response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (text: string) => {
      this.raw += text;
      this.buffer += text;
      this.parse();
      this.wake();
    });
    response.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers;
  }

  /** Opens `path` (with these request headers); resolves once the response headers arrived. */
  static async open(api: TestApp, path: string, headers: Record<string, string>): Promise<SseClient> {
    const server = createServer(api.app.callback());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers });
    req.end();
    const [response] = (await once(req, 'response')) as [IncomingMessage];
    return new SseClient(server, response);
  }

  /** Waits until `done()` holds (checked after every piece of data), or fails after `ms`. */
  async until(done: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (this.closed) throw new Error(`the stream closed before ${what}; got ${JSON.stringify(this.raw)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} in ${ms} ms; got ${JSON.stringify(this.raw)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `count` events in all. */
  async waitForEvents(count: number, ms?: number): Promise<SseEvent[]> {
    await this.until(() => this.events.length >= count, `${count} events`, ms);
    return this.events.slice(0, count);
  }

  /** Waits until the server closed the stream. */
  async ended(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`the stream is still open after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Hangs up (as a closed browser tab does) and stops listening. */
  async close(): Promise<void> {
    this.response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private parse(): void {
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
      if (match === null) return;
      const block = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r\n|\r|\n/)) {
        if (line.startsWith(':')) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'id') id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0 || event !== 'message') this.events.push({ event, id, data: data.join('\n') });
    }
  }
}
