import test from 'ava';
import { AuditEvent } from './audit-event.entity.js';
import { changedFields, envChangeSummary, REDACTED, redactSummary } from './audit-redaction.js';

const SECRETS = [
  'hunter2-the-password',
  '$argon2id$v=19$m=19456$hash',
  'eyJhbGciOiJIUzI1NiJ9.token',
  's3cr3t-env-value',
];

const leaks = (value: unknown): string[] => {
  const text = JSON.stringify(value);
  return SECRETS.filter((secret) => text.includes(secret));
};

test('values under keys that name secrets never reach a summary, at any depth', (t) => {
  const summary = redactSummary({
    password: SECRETS[0],
    passwordHash: SECRETS[1],
    password_hash: SECRETS[1],
    accessToken: SECRETS[2],
    refresh_token: SECRETS[2],
    env: { DATABASE_URL: SECRETS[3] },
    vars: { API_KEY: SECRETS[3] },
    nested: { deeper: { secret: SECRETS[3], value: SECRETS[3] } },
    repoCredentials: SECRETS[0],
    role: 'admin',
  });
  t.deepEqual(leaks(summary), []);
  t.is(summary.password, REDACTED);
  t.is(summary.passwordHash, REDACTED);
  t.is(summary.env, REDACTED);
  t.is(summary.role, 'admin', 'what is not secret stays');
});

test('name lists keep names only; anything else in them is dropped', (t) => {
  const summary = redactSummary({
    names: ['DATABASE_URL', { DATABASE_URL: SECRETS[3] }, 42],
    changed: ['name', 'repo_url'],
  });
  t.deepEqual(summary.names, ['DATABASE_URL']);
  t.deepEqual(summary.changed, ['name', 'repo_url']);
  t.deepEqual(leaks(summary), []);
});

test('an env change is summarised by names: the new set, added and removed; never a value', (t) => {
  const before = { KEEP: 'v1:kid:ciphertext-a', GONE: 'v1:kid:ciphertext-b' };
  const after = { KEEP: SECRETS[3], NEW: SECRETS[3] };
  const summary = envChangeSummary(before, after);
  t.deepEqual(summary, { names: ['KEEP', 'NEW'], added: ['NEW'], removed: ['GONE'] });
  t.deepEqual(leaks(redactSummary(summary)), []);
  t.false(JSON.stringify(summary).includes('ciphertext'));
});

test('changedFields names the fields whose value changed, in snake_case, without the values', (t) => {
  const before = { name: 'a', repoUrl: 'https://x.test/a.git', repoCredentials: 'v1:old', port: 3000 };
  const after = { name: 'a', repoUrl: 'https://x.test/b.git', repoCredentials: SECRETS[0], port: 3000 };
  const changed = changedFields(before, after, ['name', 'repoUrl', 'repoCredentials', 'port']);
  t.deepEqual(changed, ['repo_url', 'repo_credentials']);
  t.deepEqual(leaks(changed), []);
});

test('an AuditEvent redacts the summary it is given, and keeps only UUIDs as actor and session', (t) => {
  const event = AuditEvent.create(
    { id: '00000000-0000-4000-8000-000000000001', now: new Date('2026-12-02T00:00:00.000Z') },
    {
      tenantId: '00000000-0000-4000-8000-000000000002',
      actor: { type: 'user', id: '00000000-0000-4000-8000-000000000003', sessionId: 'not-a-uuid', ip: ' ::1 ' },
      action: 'user.create',
      target: { type: 'user', id: '00000000-0000-4000-8000-000000000004' },
      summary: { role: 'member', password: SECRETS[0] },
    },
  );
  t.deepEqual(leaks(event), []);
  t.is(event.sessionId, null);
  t.is(event.ip, '::1');
  t.is(event.occurredAt.toISOString(), '2026-12-02T00:00:00.000Z');
  const system = AuditEvent.create(
    { id: '00000000-0000-4000-8000-000000000005', now: new Date() },
    {
      tenantId: '00000000-0000-4000-8000-000000000002',
      actor: { type: 'system', id: '00000000-0000-4000-8000-000000000003', sessionId: null, ip: null },
      action: 'deployment.create',
      target: { type: 'deployment', id: '00000000-0000-4000-8000-000000000006' },
    },
  );
  t.is(system.actorId, null, 'a system event names no user');
});
