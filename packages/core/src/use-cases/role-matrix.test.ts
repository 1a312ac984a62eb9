import test from 'ava';
import type { Build } from '../domain/build.entity.js';
import type { Deployment } from '../domain/deployment.entity.js';
import type { Project } from '../domain/project.entity.js';
import type { Principal, Role } from '../domain/role.js';
import type { Service } from '../domain/service.entity.js';
import type { Team } from '../domain/team.entity.js';
import { createTestHarness, type TestHarness } from '../testing/index.js';

/** A tenant with one of everything, built by its owner. */
interface World {
  harness: TestHarness;
  owner: Principal;
  /** A plain member of the tenant, the target of user and team-member operations. */
  other: Principal;
  project: Project;
  service: Service;
  team: Team;
  /** Succeeded builds; each was deployed in turn, so `deployments[1]` is live. */
  builds: Build[];
  deployments: Deployment[];
  /** A build still queued. */
  queued: Build;
  /** A deployment still pending. */
  pending: Deployment;
}

async function world(): Promise<World> {
  const harness = createTestHarness();
  const { principal: owner } = await harness.signUp();
  const other = await harness.addUser(owner, 'member');
  const { useCases } = harness;
  const project = await useCases.createProject.execute(owner, { name: 'Website' });
  const service = await useCases.createService.execute(owner, project.id, {
    name: 'web',
    repoUrl: 'https://github.com/acme/web.git',
  });
  const team = await useCases.createTeam.execute(owner, { name: 'Platform' });
  await useCases.addTeamMember.execute(owner, team.id, { userId: other.userId });
  const builds: Build[] = [];
  const deployments: Deployment[] = [];
  for (let i = 0; i < 2; i += 1) {
    harness.clock.advance(60_000);
    const build = await useCases.triggerBuild.execute(owner, service.id);
    await harness.drain();
    builds.push(build);
    harness.clock.advance(60_000);
    deployments.push(await useCases.createDeployment.execute(owner, service.id, { buildId: build.id }));
    await harness.drain();
  }
  harness.clock.advance(60_000);
  const queued = await useCases.triggerBuild.execute(owner, service.id);
  const pending = await useCases.createDeployment.execute(owner, service.id, { buildId: builds[0]!.id });
  // The queued build's job is a dead letter (its queue gave up on it).
  await useCases.recordJobFailure.execute(owner.tenantId, queued.jobId!, 'worker lost', 4);
  return { harness, owner, other, project, service, team, builds, deployments, queued, pending };
}

/** Every row id with its version: equal snapshots mean nothing was written. */
function snapshot(harness: TestHarness): string {
  const rows: string[] = [];
  for (const [name, table] of harness.db.tables) {
    for (const [id, row] of table) rows.push(`${name}:${id}:${row.version}`);
  }
  return rows.sort().join('\n');
}

interface Case {
  /** What the actor does, completing "a viewer can …". */
  does: string;
  minimum: Role;
  run: (w: World, actor: Principal) => Promise<unknown>;
}

const CASES: Case[] = [
  // viewer reads
  { does: 'read the tenant', minimum: 'viewer', run: (w, a) => w.harness.useCases.getTenant.execute(a) },
  { does: 'read their own user', minimum: 'viewer', run: (w, a) => w.harness.useCases.getMe.execute(a) },
  {
    does: 'list their own linked accounts',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.listOAuthAccounts.execute(a),
  },
  {
    does: 'read another user',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.getUser.execute(a, w.other.userId),
  },
  { does: 'list projects', minimum: 'viewer', run: (w, a) => w.harness.useCases.listProjects.execute(a) },
  {
    does: 'read a project',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.getProject.execute(a, w.project.id),
  },
  {
    does: 'list services',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.listServices.execute(a, w.project.id),
  },
  {
    does: 'read a service',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.getService.execute(a, w.service.id),
  },
  { does: 'list builds', minimum: 'viewer', run: (w, a) => w.harness.useCases.listBuilds.execute(a, w.service.id) },
  {
    does: 'read a build',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.getBuild.execute(a, w.builds[0]!.id),
  },
  {
    does: 'read a build log',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.readLogs.execute(a, { kind: 'build', id: w.builds[0]!.id }),
  },
  {
    does: 'list deployments',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.listDeployments.execute(a, w.service.id),
  },
  {
    does: 'read a deployment',
    minimum: 'viewer',
    run: (w, a) => w.harness.useCases.getDeployment.execute(a, w.deployments[0]!.id),
  },
  // member creates and changes projects, services, builds and deployments, and reads teams
  {
    does: 'create a project',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.createProject.execute(a, { name: 'New' }),
  },
  {
    does: 'change a project',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.updateProject.execute(a, w.project.id, { description: 'Our site' }),
  },
  {
    does: 'create a service',
    minimum: 'member',
    run: (w, a) =>
      w.harness.useCases.createService.execute(a, w.project.id, { name: 'api', repoUrl: 'https://example.com/api' }),
  },
  {
    does: 'change a service',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.updateService.execute(a, w.service.id, { port: 8080 }),
  },
  {
    does: 'set the env vars of a service',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.setServiceEnv.execute(a, w.service.id, { API_KEY: 'secret' }),
  },
  {
    does: 'read the env vars of a service',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.getServiceEnv.execute(a, w.service.id),
  },
  {
    does: 'trigger a build',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.triggerBuild.execute(a, w.service.id),
  },
  {
    does: 'cancel a build',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.cancelBuild.execute(a, w.queued.id),
  },
  {
    does: 'deploy a build',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.createDeployment.execute(a, w.service.id, { buildId: w.builds[0]!.id }),
  },
  {
    does: 'roll back a deployment',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.rollbackDeployment.execute(a, w.deployments[1]!.id),
  },
  {
    does: 'cancel a deployment',
    minimum: 'member',
    run: (w, a) => w.harness.useCases.cancelDeployment.execute(a, w.pending.id),
  },
  { does: 'list jobs', minimum: 'admin', run: (w, a) => w.harness.useCases.listJobs.execute(a) },
  { does: 'list audit events', minimum: 'admin', run: (w, a) => w.harness.useCases.listAuditEvents.execute(a) },
  {
    does: 'retry a failed job',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.retryJob.execute(a, w.queued.jobId!),
  },
  { does: 'read a job', minimum: 'admin', run: (w, a) => w.harness.useCases.getJob.execute(a, w.queued.jobId!) },
  { does: 'list teams', minimum: 'member', run: (w, a) => w.harness.useCases.listTeams.execute(a) },
  { does: 'read a team', minimum: 'member', run: (w, a) => w.harness.useCases.getTeam.execute(a, w.team.id) },
  // admin also manages users, teams and deletes projects
  {
    does: 'delete a project',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.deleteProject.execute(a, w.project.id),
  },
  {
    does: 'delete a service',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.deleteService.execute(a, w.service.id),
  },
  { does: 'list users', minimum: 'admin', run: (w, a) => w.harness.useCases.listUsers.execute(a) },
  {
    does: 'create a user',
    minimum: 'admin',
    run: (w, a) =>
      w.harness.useCases.createUser.execute(a, {
        email: 'new@example.test',
        password: 'correct horse battery',
        role: 'viewer',
      }),
  },
  {
    does: 'change a user',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.updateUser.execute(a, w.other.userId, { role: 'viewer' }),
  },
  {
    does: 'delete a user',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.deleteUser.execute(a, w.other.userId),
  },
  {
    does: 'create a team',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.createTeam.execute(a, { name: 'Ops' }),
  },
  {
    does: 'rename a team',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.updateTeam.execute(a, w.team.id, { name: 'Core' }),
  },
  { does: 'delete a team', minimum: 'admin', run: (w, a) => w.harness.useCases.deleteTeam.execute(a, w.team.id) },
  {
    does: 'add a team member',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.addTeamMember.execute(a, w.team.id, { userId: w.owner.userId }),
  },
  {
    does: 'remove a team member',
    minimum: 'admin',
    run: (w, a) => w.harness.useCases.removeTeamMember.execute(a, w.team.id, w.other.userId),
  },
  // owner also changes the tenant
  {
    does: 'change the tenant',
    minimum: 'owner',
    run: (w, a) => w.harness.useCases.updateTenant.execute(a, { name: 'Acme Renamed' }),
  },
];

const LADDER: Role[] = ['viewer', 'member', 'admin', 'owner'];

for (const role of LADDER) {
  for (const useCase of CASES) {
    const allowed = LADDER.indexOf(role) >= LADDER.indexOf(useCase.minimum);
    test(`a${role === 'admin' || role === 'owner' ? 'n' : ''} ${role} ${allowed ? 'can' : 'cannot'} ${useCase.does}`, async (t) => {
      const w = await world();
      const actor = role === 'owner' ? w.owner : await w.harness.addUser(w.owner, role);
      const before = snapshot(w.harness);
      if (allowed) {
        await t.notThrowsAsync(useCase.run(w, actor));
      } else {
        await t.throwsAsync(useCase.run(w, actor), { code: 'authorization_error' });
        t.is(snapshot(w.harness), before, 'a refused call writes nothing');
      }
    });
  }
}

test('the matrix covers every use case that takes an actor', (t) => {
  const harness = createTestHarness();
  // Use cases with no actor: signing in and the job handlers.
  const withoutActor = new Set([
    'register',
    'login',
    'refreshSession',
    'logout',
    'authenticate',
    'runBuild',
    'runDeployment',
    'runCleanup',
    'sendNotification',
    'relayOutbox',
    'reconcileJobs',
    'reconcileRuntime',
    'shipDeploymentLogs',
    'recordJobFailure',
    'beginOAuthSignIn',
    'completeOAuthSignIn',
    'rotateSecrets',
    'scheduleCleanup',
    // Acts on the caller's own linked account only; covered in oauth.test.ts.
    'unlinkOAuthAccount',
    // Account links and the caller's own password: no role involved; covered in account.test.ts.
    'verifyEmail',
    'resendVerification',
    'forgotPassword',
    'resetPassword',
    'changePassword',
  ]);
  const covered = new Set(CASES.map((c) => c.run.toString().match(/useCases\.(\w+)\.execute/)?.[1]));
  const missing = Object.keys(harness.useCases).filter((name) => !withoutActor.has(name) && !covered.has(name));
  t.deepEqual(missing, []);
});
