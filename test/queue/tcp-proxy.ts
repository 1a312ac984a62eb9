import { once } from 'node:events';
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops listening and cuts every open connection: new ones are refused. */
  stop(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `target` that can be cut and restored: a service "down" without
 * stopping the machine's shared one. `wire` joins a client to its upstream (default: both ways).
 */
export async function tcpProxy(
  target: { host: string; port: number },
  wire: (client: net.Socket, upstream: net.Socket) => void = (client, upstream) => {
    client.pipe(upstream);
    upstream.pipe(client);
  },
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const start = async () => {
    if (server !== undefined) return;
    const listening = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => sockets.delete(s));
      }
      wire(client, upstream);
    });
    server = listening;
    listening.listen(port, '127.0.0.1');
    await once(listening, 'listening');
    port = (listening.address() as net.AddressInfo).port;
  };
  const stop = async () => {
    const current = server;
    server = undefined;
    if (current === undefined) return;
    const closed = new Promise((resolve) => current.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
  };
}
