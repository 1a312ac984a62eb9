/**
 * Baseline of `GET /api/v1/projects?limit=20`: bare node:http + pg running the same page and count
 * SQL as the list route (newest first, ties by id) for the tenant BENCH_TENANT_ID, answering the
 * same page shape. No authentication: the floor of what the list costs PostgreSQL and Node.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { iso, listen, requiredEnv } from './baseline-support.js';

const tenantId = requiredEnv('BENCH_TENANT_ID');
const pool = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 10 });

interface ProjectRow {
  id: string;
  tenant_id: string;
  team_id: string | null;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

const PAGE_SQL =
  'select "id", "tenant_id", "team_id", "name", "description", "created_at", "updated_at" from "projects" ' +
  'where "tenant_id" = $1 order by "created_at" desc, "id" desc limit $2 offset $3';
const COUNT_SQL = 'select count(*)::int as "count" from "projects" where "tenant_id" = $1';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' || url.pathname !== '/api/v1/projects') {
    res.writeHead(404).end();
    return;
  }
  const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 100);
  const skip = Number(url.searchParams.get('skip') ?? 0) || 0;
  Promise.all([
    pool.query<ProjectRow>(PAGE_SQL, [tenantId, limit, skip]),
    pool.query<{ count: number }>(COUNT_SQL, [tenantId]),
  ]).then(
    ([page, count]) => {
      const body = JSON.stringify({
        items: page.rows.map((p) => ({
          id: p.id,
          created_at: iso(p.created_at),
          updated_at: iso(p.updated_at),
          tenant_id: p.tenant_id,
          team_id: p.team_id,
          name: p.name,
          description: p.description,
        })),
        total: count.rows[0]?.count ?? 0,
        skip,
        limit,
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(body);
    },
    (error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    },
  );
});

await listen(server, () => pool.end());
