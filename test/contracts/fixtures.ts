import { randomUUID } from 'node:crypto';
import {
  Build,
  Deployment,
  type NewEntity,
  OAuthAccount,
  OutboxMessage,
  Project,
  RefreshToken,
  type Repositories,
  Service,
  Team,
  TeamMember,
  Tenant,
  type UnitOfWork,
  User,
} from '@shipyard/core';

/** What a contract suite needs from an implementation: a unit of work over a clean store. */
export interface RepositorySubject {
  uow: UnitOfWork;
  /** Releases connections and drops what the subject created. */
  close?: () => Promise<void>;
}
export type RepositoryFactory = () => Promise<RepositorySubject>;

/**
 * Ids and increasing timestamps for rows the suites create. Timestamps are whole milliseconds a
 * second apart, so every store orders them the same way.
 */
export class Stamps {
  private time = Date.parse('2026-03-01T00:00:00.000Z');

  next(): NewEntity {
    this.time += 1000;
    return { id: randomUUID(), now: new Date(this.time) };
  }

  now(): Date {
    return new Date(this.time);
  }
}

/** One tenant with a row of every entity. */
export interface TenantRows {
  tenant: Tenant;
  owner: User;
  member: User;
  team: Team;
  teamMember: TeamMember;
  project: Project;
  service: Service;
  build: Build;
  deployment: Deployment;
  oauthAccount: OAuthAccount;
  refreshToken: RefreshToken;
  outboxMessage: OutboxMessage;
}

const unique = () => randomUUID().slice(0, 8);

export async function seedTenant(uow: UnitOfWork, stamps: Stamps, label = 'tenant'): Promise<TenantRows> {
  const tenant = Tenant.create(stamps.next(), { name: `${label} ${unique()}`, slug: `${label}-${unique()}` });
  return uow.run(tenant.id, async (repos) => {
    await repos.tenants.add(tenant);
    const t = tenant.id;
    const owner = User.create(stamps.next(), { tenantId: t, email: `owner-${unique()}@example.test`, role: 'owner' });
    await repos.users.add(owner);
    const member = User.create(stamps.next(), {
      tenantId: t,
      email: `member-${unique()}@example.test`,
      role: 'member',
    });
    await repos.users.add(member);
    const team = Team.create(stamps.next(), { ownerId: owner.id, name: 'Platform' });
    await repos.teams.add(team);
    const teamMember = TeamMember.create(stamps.next(), { teamId: team.id, userId: member.id, role: 'member' });
    await repos.teamMembers.add(teamMember);
    const project = Project.create(stamps.next(), { tenantId: t, name: 'Web', teamId: team.id });
    await repos.projects.add(project);
    const service = Service.create(stamps.next(), {
      projectId: project.id,
      name: 'api',
      repoUrl: 'https://git.example.test/acme/api.git',
    });
    await repos.services.add(service);
    const build = Build.create(stamps.next(), { serviceId: service.id, branch: 'main' });
    await repos.builds.add(build);
    const deployment = Deployment.create(stamps.next(), { serviceId: service.id, buildId: build.id });
    await repos.deployments.add(deployment);
    const oauthAccount = OAuthAccount.create(stamps.next(), {
      userId: owner.id,
      provider: 'github',
      providerAccountId: String(Math.floor(Math.random() * 1e12)),
      login: `octo-${unique()}`,
      accessToken: 'ciphertext',
      scopes: ['read:user'],
    });
    await repos.oauthAccounts.add(oauthAccount);
    const refreshToken = RefreshToken.create(stamps.next(), {
      tenantId: t,
      userId: owner.id,
      familyId: randomUUID(),
      expiresAt: new Date(stamps.now().getTime() + 86_400_000),
      sessionStartedAt: stamps.now(),
    });
    await repos.refreshTokens.add(refreshToken);
    const outboxMessage = OutboxMessage.create(stamps.next(), {
      tenantId: t,
      queue: 'build',
      name: 'build.run',
      payload: { tenant_id: t, build_id: build.id },
    });
    await repos.outbox.add(outboxMessage);
    return {
      tenant,
      owner,
      member,
      team,
      teamMember,
      project,
      service,
      build,
      deployment,
      oauthAccount,
      refreshToken,
      outboxMessage,
    };
  });
}

/** Two tenants, A and B, each with one row of every entity. */
export async function seedTwoTenants(
  uow: UnitOfWork,
  stamps = new Stamps(),
): Promise<{ a: TenantRows; b: TenantRows }> {
  const a = await seedTenant(uow, stamps, 'alpha');
  const b = await seedTenant(uow, stamps, 'beta');
  return { a, b };
}

export type { Repositories };
