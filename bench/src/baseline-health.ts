/**
 * Baseline of `GET /health`: bare node:http answering the same body, no framework, no probes.
 * Listens on PORT (0: any) on 127.0.0.1 and prints `{"port": n}` once it listens.
 */
import { createServer } from 'node:http';
import { listen } from './baseline-support.js';

const body = JSON.stringify({ status: 'healthy', checks: { database: 'ok', redis: 'ok' } });

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  res.writeHead(404).end();
});

await listen(server);
