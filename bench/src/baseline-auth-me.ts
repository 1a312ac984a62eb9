/**
 * Baseline of `GET /api/v1/auth/me`: bare node:http + jose + ioredis + pg. Verifies the HS256
 * access token with the server's secret, issuer and audience, asks the blacklist for the token and
 * its session (the server's keys, `shipyard:blacklist:<jti>` and `shipyard:blacklist:session:<sid>`,
 * in one EXISTS), reads the user and answers the same user shape.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { iso, listen, requiredEnv } from './baseline-support.js';

const secret = new Uint8Array(Buffer.from(requiredEnv('JWT_SECRET'), 'utf8'));
const pool = new pg.Pool({ connectionString: requiredEnv('DATABASE_URL'), max: 10 });
const redis = new Redis(requiredEnv('REDIS_URL'), { lazyConnect: false, maxRetriesPerRequest: 1 });
const BLACKLIST = 'shipyard:blacklist:';

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  full_name: string | null;
  role: string;
  is_active: boolean;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const USER_SQL =
  'select "id", "tenant_id", "email", "full_name", "role", "is_active", "last_login_at", "created_at", "updated_at" ' +
  'from "users" where "id" = $1 and "tenant_id" = $2';

const fail = (res: ServerResponse, status: number, detail: string) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ detail }));
};

async function me(authorization: string | undefined): Promise<UserRow | string> {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return 'Not authenticated';
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(authorization.slice(7), secret, {
      algorithms: ['HS256'],
      issuer: 'shipyard',
      audience: 'shipyard-api',
      requiredClaims: ['exp', 'jti', 'sub', 'typ', 'tid'],
    }));
  } catch {
    return 'Invalid token';
  }
  if (payload.typ !== 'access') return 'Invalid token';
  const revoked = await redis.exists(
    `${BLACKLIST}${String(payload.jti)}`,
    `${BLACKLIST}session:${String(payload.sid)}`,
  );
  if (revoked > 0) return 'Token has been revoked';
  const { rows } = await pool.query<UserRow>(USER_SQL, [payload.sub, payload.tid]);
  const user = rows[0];
  if (user === undefined || !user.is_active) return 'This account no longer exists or is deactivated';
  return user;
}

const server = createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/api/v1/auth/me') {
    res.writeHead(404).end();
    return;
  }
  me(req.headers.authorization).then(
    (user) => {
      if (typeof user === 'string') return fail(res, 401, user);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({
          id: user.id,
          created_at: iso(user.created_at),
          updated_at: iso(user.updated_at),
          tenant_id: user.tenant_id,
          email: user.email,
          full_name: user.full_name,
          role: user.role,
          is_active: user.is_active,
          last_login_at: iso(user.last_login_at),
        }),
      );
    },
    (error: unknown) => fail(res, 500, String(error)),
  );
});

await listen(server, async () => {
  await pool.end();
  redis.disconnect();
});
