import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** A repository URL, branch or commit that is never handed to git. Final: retrying cannot help. */
export class RepoRefusedError extends Error {
  readonly code = 'repo_refused';
}

/** The git host could not be resolved: an infrastructure failure, retried. */
export class RepoUnreachableError extends Error {
  readonly code = 'repo_unreachable';
}

export interface RepoSourceOptions {
  /** Allow `file://` and `http://` URLs and hosts on loopback, private or link-local addresses. */
  allowLocalRepos?: boolean;
}

/** A repository URL checked for git, and what it takes to clone it without showing its credentials. */
export interface CheckedRepo {
  /** The URL git is given: without its credentials, so they are neither in argv nor in `.git/config`. */
  url: string;
  /** git settings for the clone, passed through `GIT_CONFIG_*` env (the credentials, the pinned address). */
  gitConfig: Array<[key: string, value: string]>;
  /** Everything that must be masked wherever output is shown. */
  secrets: string[];
}

// Two lists: Node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 ranges (::ffff:0:0/96
// would block every IPv4 address), so each family is checked against its own.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blockedV4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blockedV6.addSubnet(network, prefix, 'ipv6');
}

/** Loopback, private, link-local (the cloud metadata service), shared, multicast or reserved. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? blockedV4.check(address, 'ipv4') : blockedV6.check(address, 'ipv6');
}

const FORBIDDEN_CHARACTERS = /[\s\p{Cc}]/u;

/**
 * Checks a repository URL before git sees it: `https://` (and, with `allowLocalRepos`, `http://`
 * and `file://`), nothing option-like, no ssh, and a host that resolves only to public addresses.
 * The address checked is the one git connects to (`http.curloptResolve`), and redirects are not
 * followed, so a DNS answer that changes or a redirect cannot reach an internal address.
 */
export async function checkRepoUrl(repoUrl: string, options: RepoSourceOptions = {}): Promise<CheckedRepo> {
  const allowLocal = options.allowLocalRepos === true;
  if (typeof repoUrl !== 'string' || repoUrl.length === 0 || repoUrl.length > 2048) {
    throw new RepoRefusedError('The repository URL must be a non-empty string of at most 2048 characters');
  }
  if (repoUrl.startsWith('-')) throw new RepoRefusedError('The repository URL may not start with "-"');
  if (FORBIDDEN_CHARACTERS.test(repoUrl)) {
    throw new RepoRefusedError('The repository URL may not contain spaces or control characters');
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repoUrl)) {
    throw new RepoRefusedError(
      'The repository URL must be an https:// URL (ssh and scp-like addresses are not supported)',
    );
  }
  let url: URL;
  try {
    url = new URL(repoUrl);
  } catch {
    throw new RepoRefusedError('The repository URL is not a valid URL');
  }
  if (url.protocol === 'file:') {
    if (!allowLocal) throw new RepoRefusedError('file:// repositories are not allowed (ALLOW_LOCAL_REPOS is off)');
    if (url.host !== '' && url.host !== 'localhost') {
      throw new RepoRefusedError('A file:// repository URL may not name a host');
    }
    return { url: url.href, gitConfig: [], secrets: [] };
  }
  if (url.protocol === 'http:' && !allowLocal) {
    throw new RepoRefusedError('http:// repositories are not allowed: use https://');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RepoRefusedError(`${url.protocol.slice(0, -1)}:// repositories are not supported: use https://`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host.startsWith('-')) throw new RepoRefusedError('The repository URL has no valid host');

  const gitConfig: Array<[string, string]> = [];
  const secrets: string[] = [];
  if (url.username !== '' || url.password !== '') {
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    // A lone user name is the token (https://TOKEN@host/...); a named user's password is the secret.
    for (const secret of url.password !== '' ? [url.password, password] : [url.username, user]) {
      if (secret.length >= 4) secrets.push(secret);
    }
    const basic = Buffer.from(`${user}:${password}`).toString('base64');
    secrets.push(basic);
    url.username = '';
    url.password = '';
    gitConfig.push([`http.${url.origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
  }

  if (!allowLocal) {
    const address = await resolvePublicAddress(host);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    gitConfig.push([
      'http.curloptResolve',
      `${url.hostname}:${port}:${isIP(address) === 6 ? `[${address}]` : address}`,
    ]);
    gitConfig.push(['http.followRedirects', 'false']);
  }
  return { url: url.href, gitConfig, secrets };
}

async function resolvePublicAddress(host: string): Promise<string> {
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch (error) {
      throw new RepoUnreachableError(`Could not resolve the git host ${host}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  // Every answer must be public: otherwise a name with one public and one internal address would do.
  if (addresses.length === 0 || addresses.some(isNonPublicAddress)) {
    throw new RepoRefusedError(
      `The git host ${host} resolves to a loopback, private or link-local address (ALLOW_LOCAL_REPOS is off)`,
    );
  }
  return addresses[0]!;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A branch name git accepts as a ref (`git check-ref-format --branch`) and that cannot be read as an option. */
export function checkBranch(branch: string): string {
  const valid =
    typeof branch === 'string' &&
    branch.length > 0 &&
    branch.length <= 255 &&
    !/[\s\p{Cc}~^:?*[\\]/u.test(branch) &&
    !branch.startsWith('-') &&
    !branch.startsWith('/') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.') &&
    !branch.endsWith('.lock') &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.includes('@{') &&
    branch !== '@' &&
    !branch.split('/').some((part) => part.startsWith('.'));
  if (!valid) throw new RepoRefusedError(`Invalid branch name: ${JSON.stringify(String(branch).slice(0, 100))}`);
  return branch;
}

/** A commit id: 7 to 64 hex digits (abbreviated, SHA-1 or SHA-256). */
export function checkCommitSha(commitSha: string): string {
  if (typeof commitSha !== 'string' || !/^[0-9a-f]{7,64}$/i.test(commitSha)) {
    throw new RepoRefusedError(`Invalid commit id: ${JSON.stringify(String(commitSha).slice(0, 100))}`);
  }
  return commitSha.toLowerCase();
}

/** Masks every secret in `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('***');
  return result;
}
