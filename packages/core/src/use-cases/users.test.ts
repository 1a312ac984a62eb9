import test from 'ava';
import { createTestHarness } from '../testing/index.js';

const PASSWORD = 'correct horse battery';

async function tenant() {
  const harness = createTestHarness();
  const { principal: owner } = await harness.signUp({ email: 'owner@example.test' });
  const admin = await harness.addUser(owner, 'admin', 'admin@example.test');
  return { harness, owner, admin, uc: harness.useCases };
}

test('an admin creates a user who can then sign in with the first password', async (t) => {
  const { harness, admin, uc } = await tenant();
  const user = await uc.createUser.execute(admin, {
    email: 'New@Example.test',
    password: PASSWORD,
    role: 'member',
    fullName: 'New Person',
  });
  t.is(user.tenantId, admin.tenantId);
  t.is(user.email, 'new@example.test');
  t.is(user.role, 'member');
  const session = await harness.useCases.login.execute({ email: 'new@example.test', password: PASSWORD });
  t.is(session.user.id, user.id);
});

test('creating a user with an email that is taken is a conflict', async (t) => {
  const { uc, admin } = await tenant();
  await t.throwsAsync(
    uc.createUser.execute(admin, { email: 'OWNER@example.test', password: PASSWORD, role: 'viewer' }),
    {
      code: 'conflict',
    },
  );
});

test('creating a user with a weak password is a validation error', async (t) => {
  const { uc, admin } = await tenant();
  await t.throwsAsync(uc.createUser.execute(admin, { email: 'x@example.test', password: 'short', role: 'viewer' }), {
    code: 'validation_error',
  });
});

test('an admin cannot create an owner', async (t) => {
  const { harness, uc, admin } = await tenant();
  const users = harness.db.table('user').size;
  await t.throwsAsync(uc.createUser.execute(admin, { email: 'boss@example.test', password: PASSWORD, role: 'owner' }), {
    code: 'authorization_error',
  });
  t.is(harness.db.table('user').size, users);
});

test('an owner can create another owner', async (t) => {
  const { uc, owner } = await tenant();
  const user = await uc.createUser.execute(owner, { email: 'boss@example.test', password: PASSWORD, role: 'owner' });
  t.is(user.role, 'owner');
});

test('an admin cannot promote anyone to owner, themselves included', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member');
  await t.throwsAsync(uc.updateUser.execute(admin, member.userId, { role: 'owner' }), { code: 'authorization_error' });
  await t.throwsAsync(uc.updateUser.execute(admin, admin.userId, { role: 'owner' }), { code: 'authorization_error' });
  t.is((await uc.getUser.execute(admin, member.userId)).role, 'member');
  t.is((await uc.getUser.execute(admin, admin.userId)).role, 'admin');
});

test('an admin cannot change or delete an owner', async (t) => {
  const { uc, owner, admin } = await tenant();
  await t.throwsAsync(uc.updateUser.execute(admin, owner.userId, { fullName: 'Renamed' }), {
    code: 'authorization_error',
  });
  await t.throwsAsync(uc.updateUser.execute(admin, owner.userId, { role: 'member' }), { code: 'authorization_error' });
  await t.throwsAsync(uc.updateUser.execute(admin, owner.userId, { isActive: false }), {
    code: 'authorization_error',
  });
  await t.throwsAsync(uc.deleteUser.execute(admin, owner.userId), { code: 'authorization_error' });
  const stored = await uc.getUser.execute(admin, owner.userId);
  t.is(stored.role, 'owner');
  t.true(stored.isActive);
});

test('an admin changes and deletes non-owners', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member');
  const changed = await uc.updateUser.execute(admin, member.userId, { role: 'admin', fullName: 'Promoted' });
  t.is(changed.role, 'admin');
  t.is(changed.fullName, 'Promoted');
  await uc.deleteUser.execute(admin, member.userId);
  await t.throwsAsync(uc.getUser.execute(admin, member.userId), { code: 'not_found' });
});

test('an owner promotes an admin to owner', async (t) => {
  const { uc, owner, admin } = await tenant();
  t.is((await uc.updateUser.execute(owner, admin.userId, { role: 'owner' })).role, 'owner');
});

test('the last active owner cannot be demoted', async (t) => {
  const { uc, owner } = await tenant();
  await t.throwsAsync(uc.updateUser.execute(owner, owner.userId, { role: 'admin' }), { code: 'conflict' });
  t.is((await uc.getMe.execute(owner)).role, 'owner');
});

test('the last active owner cannot be deactivated', async (t) => {
  const { uc, owner } = await tenant();
  await t.throwsAsync(uc.updateUser.execute(owner, owner.userId, { isActive: false }), { code: 'conflict' });
  t.true((await uc.getMe.execute(owner)).isActive);
});

test('the last active owner cannot be deleted', async (t) => {
  const { uc, owner } = await tenant();
  await t.throwsAsync(uc.deleteUser.execute(owner, owner.userId), { code: 'conflict' });
  t.is((await uc.getMe.execute(owner)).id, owner.userId);
});

test('an owner who is not the last one can be demoted, deactivated or deleted', async (t) => {
  const { harness, uc, owner } = await tenant();
  const second = await harness.addUser(owner, 'owner');
  const third = await harness.addUser(owner, 'owner');
  t.is((await uc.updateUser.execute(owner, second.userId, { role: 'member' })).role, 'member');
  t.false((await uc.updateUser.execute(owner, third.userId, { isActive: false })).isActive);
  // `owner` is now the only active owner.
  await t.throwsAsync(uc.updateUser.execute(owner, owner.userId, { role: 'viewer' }), { code: 'conflict' });
  // The inactive owner is no guard for the tenant, but deleting them is fine.
  await uc.deleteUser.execute(owner, third.userId);
  await t.throwsAsync(uc.getUser.execute(owner, third.userId), { code: 'not_found' });
});

test('a deactivated owner does not count as the remaining owner', async (t) => {
  const { harness, uc, owner } = await tenant();
  const second = await harness.addUser(owner, 'owner');
  await uc.updateUser.execute(owner, second.userId, { isActive: false });
  await t.throwsAsync(uc.deleteUser.execute(owner, owner.userId), { code: 'conflict' });
});

test('two owners demoting each other at once cannot both succeed', async (t) => {
  const { harness, uc, owner } = await tenant();
  const second = await harness.addUser(owner, 'owner');
  const results = await Promise.allSettled([
    uc.updateUser.execute(owner, second.userId, { role: 'admin' }),
    uc.updateUser.execute(second, owner.userId, { role: 'admin' }),
  ]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const owners = await uc.listUsers.execute(owner, { filters: { role: 'owner', isActive: true } });
  t.is(owners.total, 1);
});

test('a role change revokes the user’s refresh tokens', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member', 'member@example.test');
  const session = await uc.login.execute({ email: 'member@example.test', password: PASSWORD });
  await uc.updateUser.execute(admin, member.userId, { role: 'viewer' });
  await t.throwsAsync(uc.refreshSession.execute(session.refreshToken), { code: 'authentication_error' });
  const fresh = await uc.login.execute({ email: 'member@example.test', password: PASSWORD });
  t.is(fresh.user.role, 'viewer');
  const { principal } = await uc.authenticate.execute(fresh.accessToken);
  t.is(principal.role, 'viewer', 'a new sign-in carries the new role');
});

test('a change that keeps the role keeps the user’s refresh tokens', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member', 'member@example.test');
  const session = await uc.login.execute({ email: 'member@example.test', password: PASSWORD });
  await uc.updateUser.execute(admin, member.userId, { fullName: 'Just A Name' });
  t.truthy(await uc.refreshSession.execute(session.refreshToken));
});

test('deactivating a user revokes their refresh tokens', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member', 'member@example.test');
  const session = await uc.login.execute({ email: 'member@example.test', password: PASSWORD });
  await uc.updateUser.execute(admin, member.userId, { isActive: false });
  const rows = [...harness.db.table('refreshToken').values()].filter((row) => row.userId === member.userId);
  t.true(rows.length > 0);
  t.true(rows.every((row) => row.revokedAt !== null));
  await t.throwsAsync(uc.refreshSession.execute(session.refreshToken), { code: 'authentication_error' });
});

test('an invalid user change is a validation error naming the field', async (t) => {
  const { harness, uc, admin } = await tenant();
  const member = await harness.addUser(admin, 'member');
  await t.throwsAsync(uc.updateUser.execute(admin, member.userId, { role: 'root' as never }), {
    code: 'validation_error',
    message: /role/,
  });
});

test('the user list is paged and filtered', async (t) => {
  const { harness, uc, owner } = await tenant();
  for (let i = 0; i < 3; i += 1) await harness.addUser(owner, 'viewer');
  const viewers = await uc.listUsers.execute(owner, { filters: { role: 'viewer' }, limit: 2 });
  t.is(viewers.total, 3);
  t.is(viewers.items.length, 2);
  t.true(viewers.items.every((user) => user.role === 'viewer'));
  await t.throwsAsync(uc.listUsers.execute(owner, { limit: 0 }), { code: 'validation_error' });
});

test('only an owner renames the tenant, and a bad slug is a validation error', async (t) => {
  const { uc, owner } = await tenant();
  const renamed = await uc.updateTenant.execute(owner, { name: 'New Name', slug: 'new-name' });
  t.is(renamed.slug, 'new-name');
  t.is((await uc.getTenant.execute(owner)).name, 'New Name');
  await t.throwsAsync(uc.updateTenant.execute(owner, { slug: 'Bad Slug' }), { code: 'validation_error' });
});
