import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAbsoluteFSPath } from 'swagger-ui-dist';

/** The API reference page: Swagger UI from the installed package's files, no CDN. */
export function docsAssets(): Record<string, { type: string; body: string | Buffer }> {
  const root = getAbsoluteFSPath();
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
    '/docs': { type: 'text/html; charset=utf-8', body: page },
    '/docs/init.js': { type: 'application/javascript; charset=utf-8', body: init },
    '/docs/swagger-ui.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(root, 'swagger-ui.css')) },
    '/docs/swagger-ui-bundle.js': {
      type: 'application/javascript; charset=utf-8',
      body: readFileSync(join(root, 'swagger-ui-bundle.js')),
    },
  };
}
