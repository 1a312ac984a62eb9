import test, { type ExecutionContext } from 'ava';
import { ValidationError } from './app.errors.js';
import type { NewEntity } from './entity.js';
import { Project } from './project.entity.js';
import { maskRepoUrl, parseRepoUrl, repoUrlWithCredentials } from './repo-url.js';
import { checkEnvVars, MAX_ENV_VALUE_LENGTH, Service } from './service.entity.js';
import { Team } from './team.entity.js';
import { TeamMember } from './team-member.entity.js';
import { slugify, Tenant } from './tenant.entity.js';
import { User } from './user.entity.js';

const ctx: NewEntity = { id: '00000000-0000-4000-8000-000000000001', now: new Date('2026-01-01T00:00:00Z') };
const TENANT_ID = '00000000-0000-4000-8000-0000000000aa';
const PROJECT_ID = '00000000-0000-4000-8000-0000000000bb';

/** Asserts a `validation_error` whose details name exactly `fields`. */
function throwsOnFields(t: ExecutionContext, fn: () => unknown, fields: string[]): void {
  const error = t.throws(fn, { instanceOf: ValidationError });
  t.is(error?.code, 'validation_error');
  t.deepEqual(
    error?.details.map((issue) => issue.field),
    fields,
  );
  for (const issue of error?.details ?? []) t.true(issue.message.length > 0, 'each issue says what is wrong');
}

const service = (input: Record<string, unknown>) =>
  Service.create(ctx, {
    projectId: PROJECT_ID,
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
    ...input,
  } as Parameters<typeof Service.create>[1]);

test('a project needs a name of 1 to 100 characters', (t) => {
  throwsOnFields(t, () => Project.create(ctx, { tenantId: TENANT_ID, name: '   ' }), ['name']);
  throwsOnFields(t, () => Project.create(ctx, { tenantId: TENANT_ID, name: 'x'.repeat(101) }), ['name']);
  const project = Project.create(ctx, { tenantId: TENANT_ID, name: '  Website  ', description: '' });
  t.is(project.name, 'Website', 'names are trimmed');
  t.is(project.description, null, 'an empty description is none');
  t.is(project.teamId, null);
});

test('a project description over 2000 characters names description', (t) => {
  throwsOnFields(
    t,
    () => Project.create(ctx, { tenantId: TENANT_ID, name: 'Website', description: 'd'.repeat(2001) }),
    ['description'],
  );
});

test('a project update with a bad name changes nothing else first', (t) => {
  const project = Project.create(ctx, { tenantId: TENANT_ID, name: 'Website' });
  throwsOnFields(t, () => project.update({ name: '' }, ctx.now), ['name']);
  t.is(project.name, 'Website');
});

test('a service refuses a name that is not lowercase letters, digits and inner hyphens', (t) => {
  for (const name of ['Web', '-web', 'web-', 'web_app', '', 'a'.repeat(64)]) {
    throwsOnFields(t, () => service({ name }), ['name']);
  }
  t.is(service({ name: 'web-2' }).name, 'web-2');
});

test('a service refuses a repo url that is not https, or names a local host', (t) => {
  for (const repoUrl of [
    'not a url',
    'ftp://example.com/repo',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'git@github.com:acme/web.git',
    'ssh://git@example.com/acme/web',
    'ssh://-oProxyCommand=touch%20x/y',
    'https://-oProxyCommand=x/y',
    'http://example.com/acme/web',
    'https://169.254.169.254/latest',
    'https://127.0.0.1/x',
    'https://0x7f.1/x',
    'https://localhost/x',
    'https://[::1]/x',
    'https://10.1.2.3/x',
    'https://example.com/',
    'https://example.com/a b',
  ]) {
    throwsOnFields(t, () => service({ repoUrl }), ['repoUrl']);
  }
  t.is(service({ repoUrl: 'https://example.com/a' }).repoUrl, 'https://example.com/a');
});

test('local repositories pass only under a policy that allows them', (t) => {
  const local = { allowLocalRepos: true };
  for (const repoUrl of ['file:///srv/git/web.git', 'http://127.0.0.1:9418/web.git']) {
    t.is(Service.create(ctx, { projectId: PROJECT_ID, name: 'web', repoUrl }, local).repoUrl, repoUrl);
  }
  throwsOnFields(
    t,
    () => Service.create(ctx, { projectId: PROJECT_ID, name: 'web', repoUrl: 'file://host/x' }, local),
    ['repoUrl'],
  );
});

test('a repo url gives its credentials apart, and a masked one keeps the stored ones', (t) => {
  const policy = { allowLocalRepos: false };
  t.deepEqual(parseRepoUrl('https://x-access-token:ghp_abc123@github.com/acme/web.git', policy), {
    url: 'https://github.com/acme/web.git',
    credentials: 'x-access-token:ghp_abc123',
    keepsCredentials: false,
  });
  t.deepEqual(parseRepoUrl('https://ghp_abc123@github.com/acme/web.git', policy).credentials, 'ghp_abc123');
  t.true(parseRepoUrl(maskRepoUrl('https://github.com/acme/web.git', true), policy).keepsCredentials);
  t.is(maskRepoUrl('https://github.com/acme/web.git', true), 'https://****@github.com/acme/web.git');
  t.is(
    repoUrlWithCredentials('https://github.com/acme/web.git', 'u%40x:p%3Aw'),
    'https://u%40x:p%3Aw@github.com/acme/web.git',
  );
  throwsOnFields(t, () => service({ repoUrl: 'https://u:p@github.com/acme/web.git' }), ['repoUrl']);
});

test('a service refuses an invalid git branch name', (t) => {
  for (const branch of ['-main', 'feature..x', 'a b', 'topic.lock', 'x/', 'a~1']) {
    throwsOnFields(t, () => service({ branch }), ['branch']);
  }
  t.is(service({}).branch, 'main', 'the branch defaults to main');
  t.is(service({ branch: 'release/1.2' }).branch, 'release/1.2');
});

test('a service port must be an integer from 1 to 65535', (t) => {
  for (const port of [0, 65536, 80.5, '80']) throwsOnFields(t, () => service({ port }), ['port']);
  t.is(service({ port: 8080 }).port, 8080);
});

test('a service auto_deploy must be a boolean and defaults to false', (t) => {
  throwsOnFields(t, () => service({ autoDeploy: 'yes' }), ['autoDeploy']);
  t.false(service({}).autoDeploy);
});

test('a new service is idle with no env vars', (t) => {
  const created = service({});
  t.is(created.status, 'idle');
  t.deepEqual(created.env, {});
});

test('a service update names the field it refuses', (t) => {
  const created = service({});
  throwsOnFields(t, () => created.update({ port: -1 }, ctx.now), ['port']);
  throwsOnFields(t, () => created.update({ buildCommand: 'x'.repeat(1001) }, ctx.now), ['buildCommand']);
  t.is(created.port, null);
});

test('env vars with bad names or values are refused naming vars.NAME', (t) => {
  throwsOnFields(
    t,
    () =>
      checkEnvVars({
        GOOD: 'ok',
        '1BAD': 'x',
        'WITH-DASH': 'y',
        NUMBER: 3,
        LONG: 'v'.repeat(MAX_ENV_VALUE_LENGTH + 1),
      }),
    ['vars.1BAD', 'vars.WITH-DASH', 'vars.NUMBER', 'vars.LONG'],
  );
  throwsOnFields(t, () => checkEnvVars(['A=1']), ['vars']);
  throwsOnFields(t, () => checkEnvVars(null), ['vars']);
  t.deepEqual(checkEnvVars({ _A: '', b2: 'x' }), { _A: '', b2: 'x' });
});

test('a user needs a valid email and a known role, and stores the email lowercase', (t) => {
  throwsOnFields(t, () => User.create(ctx, { tenantId: TENANT_ID, email: 'not-an-email', role: 'member' }), ['email']);
  throwsOnFields(
    t,
    () => User.create(ctx, { tenantId: TENANT_ID, email: 'a@example.test', role: 'superuser' as never }),
    ['role'],
  );
  const user = User.create(ctx, { tenantId: TENANT_ID, email: ' Ada@Example.TEST ', role: 'member' });
  t.is(user.email, 'ada@example.test');
  t.true(user.isActive);
  t.is(user.passwordHash, null);
});

test('a user update refuses a non-boolean is_active and an unknown role', (t) => {
  const user = User.create(ctx, { tenantId: TENANT_ID, email: 'a@example.test', role: 'member' });
  throwsOnFields(t, () => user.update({ isActive: 'no' as never }, ctx.now), ['isActive']);
  throwsOnFields(t, () => user.update({ role: 'root' as never }, ctx.now), ['role']);
  t.is(user.role, 'member');
});

test('a tenant needs a name and a valid slug', (t) => {
  throwsOnFields(t, () => Tenant.create(ctx, { name: '', slug: 'acme' }), ['name']);
  for (const slug of ['ab', 'Acme', '-acme', 'acme-', 'ac me', 'a'.repeat(64)]) {
    throwsOnFields(t, () => Tenant.create(ctx, { name: 'Acme', slug }), ['slug']);
  }
  t.is(Tenant.create(ctx, { name: 'Acme', slug: 'acme-2' }).slug, 'acme-2');
});

test('a team needs a name and a team member a known team role', (t) => {
  throwsOnFields(t, () => Team.create(ctx, { ownerId: TENANT_ID, name: '' }), ['name']);
  throwsOnFields(t, () => TeamMember.create(ctx, { teamId: TENANT_ID, userId: PROJECT_ID, role: 'boss' as never }), [
    'role',
  ]);
  t.is(TeamMember.create(ctx, { teamId: TENANT_ID, userId: PROJECT_ID }).role, 'member');
});

test('slugify turns a display name into lowercase words joined by hyphens', (t) => {
  t.is(slugify('Acme Corp!'), 'acme-corp');
  t.is(slugify('  Hello,   World  '), 'hello-world');
  t.is(slugify('Crème Brûlée'), 'creme-brulee');
  t.is(slugify('ACME_2026 Inc.'), 'acme-2026-inc');
});

test('slugify pads a too-short slug so it stays valid', (t) => {
  t.is(slugify('AB'), 'tenant-ab');
  t.is(slugify('!!!'), 'tenant');
  t.is(slugify('東京'), 'tenant');
});

test('slugify keeps at most 50 characters and never ends on a hyphen', (t) => {
  const slug = slugify(`${'a'.repeat(49)} ${'b'.repeat(20)}`);
  t.is(slug, 'a'.repeat(49));
  t.true(slugify('word '.repeat(30)).length <= 50);
});

test('every slug that slugify makes is accepted as a tenant slug', (t) => {
  const names = ['Acme', 'x', '', '---', 'Ünïcödé Çorp', 'a-b', '123', 'Z'.repeat(300), 'Foo -- Bar', '🚀 Rocket'];
  for (const name of names) {
    const slug = slugify(name);
    t.notThrows(() => Tenant.checkSlug(slug), `slug of ${JSON.stringify(name)}: ${slug}`);
  }
});
