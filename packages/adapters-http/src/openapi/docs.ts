import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// The package's directory, found without loading it: its main module evaluates the whole
// 1.7 MB browser bundle in Node.
const swaggerUiDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const lazy = (read: () => Buffer) => {
  let body: Buffer | undefined;
  return () => {
    body ??= read();
    return body;
  };
};

/**
 * The API reference page: Swagger UI from the installed package's files, no CDN. The bundle
 * (~1.5 MB) is read on its first request, not when the app is built.
 */
export function docsAssets(): Record<string, { type: string; body: () => string | Buffer }> {
  const root = swaggerUiDir();
  const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Shipyard API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;
  // validatorUrl: null, or Swagger UI sends the document's URL to validator.swagger.io for a badge.
  const init =
    "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true, validatorUrl: null });\n";
  return {
    '/docs': { type: 'text/html; charset=utf-8', body: () => page },
    '/docs/init.js': { type: 'application/javascript; charset=utf-8', body: () => init },
    '/docs/swagger-ui.css': {
      type: 'text/css; charset=utf-8',
      body: lazy(() => readFileSync(join(root, 'swagger-ui.css'))),
    },
    '/docs/swagger-ui-bundle.js': {
      type: 'application/javascript; charset=utf-8',
      body: lazy(() => readFileSync(join(root, 'swagger-ui-bundle.js'))),
    },
  };
}
