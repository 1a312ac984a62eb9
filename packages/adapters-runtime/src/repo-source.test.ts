import test from 'ava';
import { checkBranch, checkCommitSha, checkRepoUrl, isNonPublicAddress, RepoRefusedError } from './repo-source.js';

test('loopback, private, link-local and mapped addresses are not public', (t) => {
  for (const address of [
    '127.0.0.1',
    '10.0.0.8',
    '172.20.1.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    'not an address',
  ]) {
    t.true(isNonPublicAddress(address), address);
  }
  for (const address of ['140.82.121.4', '8.8.8.8', '2606:4700::1111']) t.false(isNonPublicAddress(address), address);
});

test('a public https URL is pinned to the address checked, and redirects are off', async (t) => {
  const checked = await checkRepoUrl('https://140.82.121.4/owner/repo.git');
  t.deepEqual(checked, {
    url: 'https://140.82.121.4/owner/repo.git',
    gitConfig: [
      ['http.curloptResolve', '140.82.121.4:443:140.82.121.4'],
      ['http.followRedirects', 'false'],
    ],
    secrets: [],
  });
});

test('credentials leave the URL and become a header scoped to its origin', async (t) => {
  const checked = await checkRepoUrl('https://x-access-token:ghp_abc%2F123@140.82.121.4:8443/o/r.git');
  const basic = Buffer.from('x-access-token:ghp_abc/123').toString('base64');
  t.is(checked.url, 'https://140.82.121.4:8443/o/r.git');
  t.deepEqual(checked.gitConfig[0], ['http.https://140.82.121.4:8443/.extraHeader', `Authorization: Basic ${basic}`]);
  t.deepEqual(checked.secrets, ['ghp_abc%2F123', 'ghp_abc/123', basic]);
  // A lone user name is the token.
  const token = await checkRepoUrl('https://ghp_tokenonly@140.82.121.4/o/r.git');
  t.true(token.secrets.includes('ghp_tokenonly'));
});

test('file:// and http:// are allowed only for local repositories', async (t) => {
  await t.throwsAsync(checkRepoUrl('file:///srv/repo.git'), { instanceOf: RepoRefusedError });
  t.is((await checkRepoUrl('file:///srv/repo.git', { allowLocalRepos: true })).url, 'file:///srv/repo.git');
  await t.throwsAsync(checkRepoUrl('file://other-host/srv/repo.git', { allowLocalRepos: true }), {
    instanceOf: RepoRefusedError,
  });
  t.deepEqual((await checkRepoUrl('http://127.0.0.1:9/r.git', { allowLocalRepos: true })).gitConfig, []);
});

test('branch names and commit ids', (t) => {
  for (const branch of ['main', 'feature/login', 'release-1.2', 'fix_#12', 'héllo']) t.is(checkBranch(branch), branch);
  for (const branch of ['', '-x', '/x', 'x/', 'x.lock', 'a..b', 'a b', 'a~1', 'a^', 'a:b', '.hidden', 'x/.y', '@']) {
    t.throws(() => checkBranch(branch), { instanceOf: RepoRefusedError }, branch);
  }
  t.is(checkCommitSha('ABCDEF1'), 'abcdef1');
  t.throws(() => checkCommitSha('abc'), { instanceOf: RepoRefusedError });
  t.throws(() => checkCommitSha('-abcdef1'), { instanceOf: RepoRefusedError });
});
