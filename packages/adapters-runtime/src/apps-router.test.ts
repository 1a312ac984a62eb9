import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import test from 'ava';
import { AppsRouter, appHostname, serviceSlug } from './apps-router.js';
import { get } from './testing/fixture-repo.js';

async function router(t: import('ava').ExecutionContext): Promise<AppsRouter> {
  const apps = new AppsRouter({ port: 0, host: '127.0.0.1' });
  await apps.listen();
  t.teardown(() => apps.close());
  return apps;
}

const BAD_GATEWAY = /^\{"error":\{"code":"bad_gateway","message":"[^"]+","details":null,"request_id":null\}\}$/;

test('an unknown host is a 502 in the wire shape of errors', async (t) => {
  const apps = await router(t);
  const response = await get(apps.port, 'nothing-12345678.apps.localhost');
  t.is(response.status, 502);
  t.regex(response.body, BAD_GATEWAY);
  t.is(JSON.parse(response.body).error.message, 'No app is live at this address');
});

test('a routed host reaches its instance, whatever the case and port in Host', async (t) => {
  const app = createServer((req, res) => res.end(`app saw ${req.url} for ${req.headers['x-forwarded-host']}`));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => app.close(() => resolve())));
  const apps = await router(t);
  const host = apps.hostFor('My API', '1a2b3c4d-5e6f-4000-8000-000000000000');
  t.is(host, 'my-api-1a2b3c4d.apps.localhost');
  t.is(apps.urlFor('My API', '1a2b3c4d-5e6f-4000-8000-000000000000'), `http://${host}:${apps.port}`);
  apps.setRoute(host, { deploymentId: 'd1', port: (app.address() as AddressInfo).port });
  const response = await get(apps.port, `MY-API-1A2B3C4D.apps.localhost:${apps.port}`, '/hello?x=1');
  t.is(response.status, 200);
  t.is(response.body, `app saw /hello?x=1 for MY-API-1A2B3C4D.apps.localhost:${apps.port}`);

  // Only the deployment that owns the route can take it away.
  apps.removeRoute(host, 'd0');
  t.is((await get(apps.port, host)).status, 200);
  apps.removeRoute(host, 'd1');
  t.is((await get(apps.port, host)).status, 502);
});

test('an instance that does not answer is a 502 in the wire shape', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const apps = await router(t);
  apps.setRoute('gone-00000000.apps.localhost', { deploymentId: 'd1', port });
  const response = await get(apps.port, 'gone-00000000.apps.localhost');
  t.is(response.status, 502);
  t.regex(response.body, BAD_GATEWAY);
  t.is(JSON.parse(response.body).error.message, 'The app did not answer');
});

test('service names become DNS labels', (t) => {
  t.is(serviceSlug('Café  Backend_v2!'), 'cafe-backend-v2');
  t.is(serviceSlug('***'), 'app');
  t.is(serviceSlug('x'.repeat(80)).length, 54);
  t.is(appHostname('web', 'ABCDEF12-3456-4000-8000-000000000000', 'apps.example.com'), 'web-abcdef12.apps.example.com');
});

test('a WebSocket upgrade is proxied to the instance', async (t) => {
  const app = createServer();
  app.on('upgrade', (req, socket) => {
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Path: ${req.url}\r\n\r\n`,
    );
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => app.close(() => resolve())));
  const apps = await router(t);
  apps.setRoute('ws-00000000.apps.localhost', { deploymentId: 'd1', port: (app.address() as AddressInfo).port });
  const upgrade = (host: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(apps.port, '127.0.0.1', () => {
        socket.write(
          `GET /socket HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
  const answer = await upgrade('ws-00000000.apps.localhost');
  t.regex(answer, /^HTTP\/1\.1 101/);
  t.regex(answer, /x-path: \/socket/i);
  t.regex(await upgrade('unknown-00000000.apps.localhost'), /^HTTP\/1\.1 502/);
});
