import test from 'ava';
import { bearer, TestApp } from './fixture.js';
import { assertError } from './helpers.js';

test('GET /health is 200 healthy with the checks', async (t) => {
  const api = new TestApp({ healthChecks: [{ name: 'database', check: async () => {} }] });
  const res = await api.http.get('/health').expect(200);
  t.deepEqual(res.body, { status: 'healthy', checks: { database: 'ok' } });
});

test('GET /health is 503 unhealthy when a check fails, and names the failing check', async (t) => {
  const api = new TestApp({
    healthChecks: [
      { name: 'database', check: async () => Promise.reject(new Error('down')) },
      { name: 'redis', check: async () => {} },
    ],
  });
  const res = await api.http.get('/health').expect(503);
  t.deepEqual(res.body, { status: 'unhealthy', checks: { database: 'down', redis: 'ok' } });
});

test('GET /openapi.json is an OpenAPI 3.1 document of every route, with request schemas', async (t) => {
  const api = new TestApp();
  const res = await api.http.get('/openapi.json').expect(200);
  t.regex(res.headers['content-type'] ?? '', /application\/json/);
  const doc = res.body;
  t.is(doc.openapi, '3.1.0');
  const expected: [string, string][] = [
    ['/api/v1/auth/register', 'post'],
    ['/api/v1/auth/login', 'post'],
    ['/api/v1/auth/refresh', 'post'],
    ['/api/v1/auth/logout', 'post'],
    ['/api/v1/auth/me', 'get'],
    ['/api/v1/tenant', 'get'],
    ['/api/v1/tenant', 'patch'],
    ['/api/v1/users', 'get'],
    ['/api/v1/users', 'post'],
    ['/api/v1/users/{id}', 'get'],
    ['/api/v1/users/{id}', 'patch'],
    ['/api/v1/users/{id}', 'delete'],
    ['/api/v1/teams', 'get'],
    ['/api/v1/teams', 'post'],
    ['/api/v1/teams/{id}', 'get'],
    ['/api/v1/teams/{id}', 'patch'],
    ['/api/v1/teams/{id}', 'delete'],
    ['/api/v1/teams/{id}/members', 'post'],
    ['/api/v1/teams/{id}/members/{user_id}', 'delete'],
    ['/api/v1/projects', 'get'],
    ['/api/v1/projects', 'post'],
    ['/api/v1/projects/{id}', 'get'],
    ['/api/v1/projects/{id}', 'patch'],
    ['/api/v1/projects/{id}', 'delete'],
    ['/api/v1/projects/{id}/services', 'get'],
    ['/api/v1/projects/{id}/services', 'post'],
    ['/api/v1/services/{id}', 'get'],
    ['/api/v1/services/{id}', 'patch'],
    ['/api/v1/services/{id}', 'delete'],
    ['/api/v1/services/{id}/env', 'put'],
    ['/api/v1/services/{id}/env', 'get'],
    ['/api/v1/services/{id}/builds', 'post'],
    ['/api/v1/services/{id}/builds', 'get'],
    ['/api/v1/builds/{id}', 'get'],
    ['/api/v1/builds/{id}/cancel', 'post'],
    ['/api/v1/builds/{id}/logs', 'get'],
    ['/api/v1/services/{id}/deployments', 'post'],
    ['/api/v1/services/{id}/deployments', 'get'],
    ['/api/v1/deployments/{id}', 'get'],
    ['/api/v1/deployments/{id}/rollback', 'post'],
    ['/api/v1/deployments/{id}/cancel', 'post'],
    ['/api/v1/deployments/{id}/logs', 'get'],
    ['/api/v1/jobs', 'get'],
    ['/api/v1/jobs/{id}', 'get'],
    ['/api/v1/jobs/{id}/retry', 'post'],
    ['/api/v1/audit-events', 'get'],
  ];
  for (const [path, method] of expected) {
    t.truthy(doc.paths?.[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
  }

  // Request bodies point at named schemas with their fields.
  const schemaOf = (path: string, method: string) => {
    const schema = doc.paths[path][method].requestBody?.content?.['application/json']?.schema;
    const ref: string | undefined = schema?.$ref;
    return ref === undefined ? schema : doc.components.schemas[ref.replace('#/components/schemas/', '')];
  };
  const register = schemaOf('/api/v1/auth/register', 'post');
  t.truthy(register.properties.tenant_name);
  t.true(register.required.includes('tenant_name'));
  t.is(register.additionalProperties, false, 'unknown fields are documented as rejected');
  t.truthy(schemaOf('/api/v1/projects/{id}/services', 'post').properties.repo_url);
  t.truthy(schemaOf('/api/v1/services/{id}/deployments', 'post').properties.build_id);
  // Query parameters of a list, and the error responses.
  const listParams = (doc.paths['/api/v1/services/{id}/builds'].get.parameters as { name: string; in: string }[]).map(
    (p) => `${p.in}:${p.name}`,
  );
  for (const name of ['path:id', 'query:skip', 'query:limit', 'query:sort_by', 'query:sort_order', 'query:status']) {
    t.true(listParams.includes(name), `${name} is documented`);
  }
  t.truthy(doc.paths['/api/v1/projects'].post.responses['422']);
  t.truthy(doc.components.schemas.Error);
  t.truthy(doc.components.securitySchemes.bearer);
  // The wire never documents secrets.
  t.false('password_hash' in doc.components.schemas.User.properties);
  t.false('env' in doc.components.schemas.Service.properties);
  // Jobs: their own tag, filters of the list, never the payload; leases and job ids stay internal.
  t.deepEqual(doc.paths['/api/v1/jobs'].get.tags, ['jobs']);
  t.deepEqual(doc.paths['/api/v1/jobs/{id}/retry'].post.tags, ['jobs']);
  t.truthy(doc.paths['/api/v1/jobs/{id}/retry'].post.responses['202']);
  t.truthy(doc.paths['/api/v1/jobs/{id}/retry'].post.responses['409']);
  t.truthy(doc.paths['/api/v1/deployments/{id}/cancel'].post.responses['202']);
  const jobParams = (doc.paths['/api/v1/jobs'].get.parameters as { name: string }[]).map((p) => p.name);
  for (const name of ['skip', 'limit', 'sort_by', 'sort_order', 'state', 'queue', 'name']) {
    t.true(jobParams.includes(name), `GET /jobs documents ${name}`);
  }
  const job = doc.components.schemas.Job;
  t.truthy(job.properties.subject_id);
  t.truthy(job.properties.last_error);
  t.false('payload' in job.properties);
  t.true(doc.components.schemas.Deployment.properties.status.enum.includes('cancelled'));
  t.truthy(doc.components.schemas.Deployment.properties.attempt);
  for (const schema of ['Build', 'Deployment']) {
    t.false('lease_until' in doc.components.schemas[schema].properties, schema);
    t.false('job_id' in doc.components.schemas[schema].properties, schema);
  }
  // Services: the health check path; never the repository's credentials.
  t.truthy(doc.components.schemas.Service.properties.health_check_path);
  t.false('repo_credentials' in doc.components.schemas.Service.properties);
  t.truthy(schemaOf('/api/v1/projects/{id}/services', 'post').properties.health_check_path);
  t.truthy(schemaOf('/api/v1/services/{id}', 'patch').properties.health_check_path);
  // Logs: text or Server-Sent Events, the cursor headers, `after`, `follow` and Last-Event-ID.
  for (const path of ['/api/v1/builds/{id}/logs', '/api/v1/deployments/{id}/logs']) {
    const operation = doc.paths[path].get;
    const ok = operation.responses['200'];
    t.deepEqual(Object.keys(ok.content).sort(), ['text/event-stream', 'text/plain'], path);
    t.truthy(ok.headers['X-Log-Cursor'], path);
    t.truthy(ok.headers['X-Log-Ended'], path);
    t.truthy(operation.responses['404'], path);
    t.truthy(operation.responses['401'], path);
    const params = (operation.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`);
    for (const name of ['path:id', 'query:after', 'query:follow', 'header:last-event-id']) {
      t.true(params.includes(name), `${path} documents ${name}`);
    }
    t.truthy(operation.security);
  }
  // Every operation declares its security: the public ones an empty list, the others bearer or cookie.
  const publicOperations = ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/refresh'];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
    for (const [method, operation] of Object.entries(item)) {
      t.true(Array.isArray(operation.security), `${method} ${path} declares security`);
      if (publicOperations.includes(path)) t.deepEqual(operation.security, [], `${method} ${path} is public`);
      if (path === '/api/v1/auth/me') t.deepEqual(operation.security, [{ bearer: [] }, { cookie: [] }]);
    }
  }
});

test('GET /docs serves an HTML page that loads only local /docs assets, and they answer', async (t) => {
  const api = new TestApp();
  const res = await api.http.get('/docs').expect(200);
  t.regex(res.headers['content-type'] ?? '', /text\/html/);
  const html: string = res.text;
  const urls = [...html.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1] ?? '');
  t.true(urls.length >= 2, 'the page loads its script and stylesheet');
  for (const url of urls) t.true(url.startsWith('/docs/'), `${url} is a local /docs asset`);
  t.notRegex(html, /https?:\/\//, 'no URL to another host in the page');
  for (const url of urls) {
    const asset = await api.http.get(url).expect(200);
    t.true((asset.text ?? asset.body).length > 0, `${url} has content`);
  }
  // The page's own script points at the local document and turns off the remote validator badge.
  const init = await api.http.get('/docs/init.js').expect(200);
  t.regex(init.text, /url:\s*'\/openapi\.json'/);
  t.notRegex(init.text, /https?:\/\//);
  t.regex(init.text, /validatorUrl:\s*null/);
  // The browser is told to load nothing from other hosts.
  const csp = res.headers['content-security-policy'] ?? '';
  t.regex(csp, /script-src 'self'(;|$)/);
  t.regex(csp, /default-src 'self'/);
});

test('in production /openapi.json and /docs are 404 with the error shape', async (t) => {
  const api = new TestApp({ production: true });
  for (const path of ['/openapi.json', '/docs', '/docs/init.js', '/docs/swagger-ui-bundle.js']) {
    const res = await api.http.get(path);
    assertError(t, res, 404, 'not_found');
  }
  // The API itself still works, and its session and device cookies are Secure.
  await api.http.get('/health').expect(200);
  const registered = await api.http
    .post('/api/v1/auth/register')
    .send({ tenant_name: 'Prod Co', email: 'prod@example.test', password: 'correct horse battery' })
    .expect(201);
  const cookies = ([] as string[]).concat(registered.headers['set-cookie'] ?? []);
  t.deepEqual(cookies.map((cookie) => cookie.split('=')[0]).sort(), [
    'access_token',
    'csrf_token',
    'device_token',
    'refresh_token',
  ]);
  for (const cookie of cookies) t.regex(cookie, /;\s*secure/i, cookie.split('=')[0]);
  await api.http
    .get('/api/v1/tenant')
    .set(bearer({ token: registered.body.access_token }))
    .expect(200);
  const logout = await api.http.post('/api/v1/auth/logout').set(bearer({ token: registered.body.access_token }));
  t.is(logout.status, 204);
});

test('security headers are set', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  for (const res of [
    await api.http.get('/health'),
    await api.http.get('/api/v1/tenant').set(bearer(owner)),
    await api.http.get('/api/v1/nowhere'),
  ]) {
    t.is(res.headers['x-content-type-options'], 'nosniff');
    t.truthy(res.headers['x-frame-options']);
    t.truthy(res.headers['content-security-policy']);
    t.truthy(res.headers['strict-transport-security']);
    t.false('x-powered-by' in res.headers);
  }
});

test('CORS: the frontend origin is allowed with credentials; another origin gets no allow-origin', async (t) => {
  const api = new TestApp();
  const allowed = await api.http
    .options('/api/v1/projects')
    .set('Origin', 'http://localhost:5173')
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'content-type,authorization');
  t.true(allowed.status === 204 || allowed.status === 200);
  t.is(allowed.headers['access-control-allow-origin'], 'http://localhost:5173');
  t.is(allowed.headers['access-control-allow-credentials'], 'true');
  t.regex(allowed.headers['access-control-allow-methods'] ?? '', /POST/);
  t.regex(allowed.headers['access-control-allow-headers'] ?? '', /authorization/i);

  const evil = await api.http
    .options('/api/v1/projects')
    .set('Origin', 'https://evil.example')
    .set('Access-Control-Request-Method', 'POST');
  t.false('access-control-allow-origin' in evil.headers);

  // A simple cross-origin GET from another host is not readable by it either.
  const evilGet = await api.http.get('/health').set('Origin', 'https://evil.example');
  t.false('access-control-allow-origin' in evilGet.headers);
  const goodGet = await api.http.get('/health').set('Origin', 'http://localhost:5173');
  t.is(goodGet.headers['access-control-allow-origin'], 'http://localhost:5173');
  t.regex(goodGet.headers['access-control-expose-headers'] ?? '', /x-request-id/i);
});

test('a 500 shows no stack and no internal message', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  api.useCases.getTenant.execute = async () => {
    throw new Error('secret SQL detail');
  };
  const res = await api.http.get('/api/v1/tenant').set(bearer(owner)).set('X-Request-Id', 'boom-1');
  assertError(t, res, 500, 'internal_error');
  t.is(res.body.error.message, 'Internal server error');
  t.is(res.body.error.details, null);
  t.is(res.body.error.request_id, 'boom-1');
  t.false(res.text.includes('secret'));
  t.false(res.text.includes('SQL'));
  t.notRegex(res.text, /at .*\.js:\d+/);
  t.notRegex(res.text, /stack/i);
});

test('a thrown non-Error value is a 500 with the generic message too', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  api.useCases.getTenant.execute = async () => {
    throw { status: 500, message: 'relation "tenants" does not exist', expose: true };
  };
  const res = await api.http.get('/api/v1/tenant').set(bearer(owner));
  assertError(t, res, 500, 'internal_error');
  t.is(res.body.error.message, 'Internal server error');
  t.false(res.text.includes('relation'));
});

test('x-request-id: a given one is echoed (also on errors); none given, one is made', async (t) => {
  const api = new TestApp();
  const given = await api.http.get('/health').set('X-Request-Id', 'req-abc.123').expect(200);
  t.is(given.headers['x-request-id'], 'req-abc.123');
  const made = await api.http.get('/health').expect(200);
  t.regex(made.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  const other = await api.http.get('/health').expect(200);
  t.not(other.headers['x-request-id'], made.headers['x-request-id']);
  const error = await api.http.get('/api/v1/tenant').set('X-Request-Id', 'req-401');
  assertError(t, error, 401, 'authentication_error');
  t.is(error.body.error.request_id, 'req-401');
  // A malformed id (header injection, huge) is replaced, not echoed.
  const bad = await api.http.get('/health').set('X-Request-Id', `x${'y'.repeat(300)}`);
  t.regex(bad.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
});

test('an unknown route is 404 with the error shape; a wrong method is 405', async (t) => {
  const api = new TestApp();
  const owner = await api.register();
  const unknown = await api.http.get('/api/v1/nowhere').set(bearer(owner));
  assertError(t, unknown, 404, 'not_found');
  const root = await api.http.get('/');
  assertError(t, root, 404, 'not_found');
  const method = await api.http.put('/api/v1/projects').set(bearer(owner)).send({});
  assertError(t, method, 405, 'method_not_allowed');
  t.regex(method.headers.allow ?? '', /GET/);
});
