import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxyServer } from 'httpxy';

export interface AppsRouterOptions {
  /** Port to listen on: 8080 by default (`APPS_PORT`); 0 picks a free one. */
  port?: number;
  /** Address to listen on. Default `0.0.0.0`. */
  host?: string;
  /** Apps are served at `<service-name>-<short-id>.<domain>`. Default `apps.localhost` (`APPS_DOMAIN`). */
  domain?: string;
  /**
   * The port written in the apps' URLs, when the router is reached through another one (a load
   * balancer on 80); `null` writes none. Default: the port it listens on.
   */
  publicPort?: number | null;
}

export interface Route {
  deploymentId: string;
  /** Where the instance listens on 127.0.0.1. */
  port: number;
}

/** A DNS label from a service name: lower-case letters, digits and dashes, at most 54 characters. */
export function serviceSlug(serviceName: string): string {
  const slug = serviceName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54)
    .replace(/-+$/, '');
  return slug === '' ? 'app' : slug;
}

/** The first 8 hex digits of the service id. */
export function shortId(serviceId: string): string {
  return (
    serviceId
      .toLowerCase()
      .replace(/[^0-9a-f]/g, '')
      .slice(0, 8) || 'service'
  );
}

/** `<service-name>-<short-id>.<domain>`: the Host that reaches a service's live instance. */
export function appHostname(serviceName: string, serviceId: string, domain: string): string {
  return `${serviceSlug(serviceName)}-${shortId(serviceId)}.${domain}`;
}

/**
 * The reverse proxy in front of the apps (httpxy): it sends each request, WebSocket upgrades
 * included, to the live instance of the service its Host names, and answers 502 in the API's error
 * shape when there is none or it does not answer.
 */
export class AppsRouter {
  readonly domain: string;
  private readonly routes = new Map<string, Route>();
  private readonly agent = new Agent({ keepAlive: true });
  private readonly proxy = createProxyServer({ xfwd: true, agent: this.agent });
  private readonly server: Server;
  private listening = false;

  constructor(private readonly options: AppsRouterOptions = {}) {
    this.domain = (options.domain ?? 'apps.localhost').toLowerCase();
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const route = this.routeFor(req.headers.host);
      if (route === null) {
        socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.proxy.ws(req, socket, { target: `http://127.0.0.1:${route.port}` }, head).catch(() => socket.destroy());
    });
  }

  /** Listens on the configured port, or on `port` when given (0: any free one). */
  async listen(port = this.options.port ?? 8080): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  /** The port it listens on. */
  get port(): number {
    if (!this.listening) throw new Error('The apps router is not listening');
    return (this.server.address() as AddressInfo).port;
  }

  hostFor(serviceName: string, serviceId: string): string {
    return appHostname(serviceName, serviceId, this.domain);
  }

  /** `http://<host>:<port>`, the deployment's URL. */
  urlFor(serviceName: string, serviceId: string): string {
    const port = this.options.publicPort === undefined ? this.port : this.options.publicPort;
    const suffix = port === null || port === 80 ? '' : `:${port}`;
    return `http://${this.hostFor(serviceName, serviceId)}${suffix}`;
  }

  /** Sends the host's traffic to `route` from the next request on. */
  setRoute(host: string, route: Route): void {
    this.routes.set(host.toLowerCase(), route);
  }

  /** Stops routing the host, if it still goes to this deployment (a newer one keeps its route). */
  removeRoute(host: string, deploymentId: string): void {
    const key = host.toLowerCase();
    if (this.routes.get(key)?.deploymentId === deploymentId) this.routes.delete(key);
  }

  routeOf(host: string): Route | null {
    return this.routes.get(host.toLowerCase()) ?? null;
  }

  async close(): Promise<void> {
    if (this.listening) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
      this.listening = false;
    }
    this.agent.destroy();
  }

  private routeFor(hostHeader: string | undefined): Route | null {
    if (hostHeader === undefined) return null;
    // The Host header is only a key into the table: it never builds a URL or reaches the app's address.
    const host = hostHeader.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    return this.routes.get(host) ?? null;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const route = this.routeFor(req.headers.host);
    if (route === null) {
      badGateway(res, 'No app is live at this address');
      return;
    }
    this.proxy.web(req, res, { target: `http://127.0.0.1:${route.port}` }).catch(() => {
      badGateway(res, 'The app did not answer');
    });
  }
}

function badGateway(res: ServerResponse, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: 'bad_gateway', message, details: null, request_id: null } });
  res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
