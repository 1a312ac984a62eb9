// `npm start`: a tiny HTTP app. It listens on $PORT (the runtime picks it), greets with $GREETING,
// and answers its health check on /healthz.
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { join } = require('node:path');

const port = Number(process.env.PORT || 3000);
const greeting = process.env.GREETING || 'Hello';

let build = null;
try {
  build = JSON.parse(readFileSync(join(__dirname, 'build-info.json'), 'utf8'));
} catch {
  // not built: `npm start` without `npm run build` first
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://app').pathname;
  console.log(`${req.method} ${path}`);
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  } else if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${greeting} from the Shipyard sample app! (built ${build ? build.builtAt : 'never'})\n`);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
});

server.listen(port, () => console.log(`sample app listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
