import { ValidationError } from './app.errors.js';
import { text } from './validate.js';

/** Shown in place of a repository URL's credentials. Sent back unchanged, it keeps them. */
export const CREDENTIALS_MASK = '****';

export interface RepoUrlPolicy {
  /** Accept `file://` and `http://` URLs and local hosts (development and tests only). */
  allowLocalRepos: boolean;
}

export interface ParsedRepoUrl {
  /** The URL without its credentials: what is stored in the clear and shown. */
  url: string;
  /** `user:password` or a lone token from the URL, to be stored encrypted; `null` when there are none. */
  credentials: string | null;
  /** The URL named the masked credentials (`https://****@host/…`): keep the stored ones. */
  keepsCredentials: boolean;
}

const FORBIDDEN = /[\s\p{Cc}]/u;
const INVALID = 'must be an https:// URL of a git repository';

/**
 * Checks a repository URL and takes its credentials out. Accepted: `https://` (and, with
 * `allowLocalRepos`, `http://` and `file://`). ssh needs deploy keys, which are not supported:
 * private repositories clone over https with a token (`https://TOKEN@github.com/acme/web.git`).
 * Nothing option-like reaches git, and hosts that name loopback, private or link-local addresses
 * are refused here (the runtime checks what a host name resolves to before it clones).
 */
export function parseRepoUrl(value: unknown, policy: RepoUrlPolicy): ParsedRepoUrl {
  const raw = text('repoUrl', value, { max: 2048 });
  if (FORBIDDEN.test(raw)) throw ValidationError.field('repoUrl', 'must not contain spaces or control characters');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw ValidationError.field(
      'repoUrl',
      /^[^/]+@[^/]+:/.test(raw)
        ? 'ssh repositories are not supported (they need deploy keys): use https://, with a token for a private repository'
        : INVALID,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw ValidationError.field('repoUrl', INVALID);
  }
  const local = policy.allowLocalRepos;
  if (url.protocol === 'file:') {
    if (!local) throw ValidationError.field('repoUrl', 'file:// repositories are not allowed on this server');
    if (url.host !== '' && url.host !== 'localhost') {
      throw ValidationError.field('repoUrl', 'a file:// URL may not name a host');
    }
    return { url: url.href, credentials: null, keepsCredentials: false };
  }
  if (url.protocol === 'ssh:' || url.protocol === 'git+ssh:') {
    throw ValidationError.field(
      'repoUrl',
      'ssh repositories are not supported (they need deploy keys): use https://, with a token for a private repository',
    );
  }
  if (url.protocol === 'http:' && !local) {
    throw ValidationError.field('repoUrl', 'http:// repositories are not allowed: use https://');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw ValidationError.field('repoUrl', INVALID);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host.startsWith('-') || host.startsWith('.')) {
    throw ValidationError.field('repoUrl', 'must name a valid host');
  }
  if (!local && isLocalHost(host)) {
    throw ValidationError.field('repoUrl', 'must not name a loopback, private or link-local host');
  }
  if (url.pathname === '/' || url.pathname === '') throw ValidationError.field('repoUrl', 'must name a repository');
  if (url.search !== '' || url.hash !== '') {
    throw ValidationError.field('repoUrl', 'must not carry a query or a fragment');
  }

  let credentials: string | null = null;
  let keepsCredentials = false;
  if (url.username !== '' || url.password !== '') {
    if (url.username === CREDENTIALS_MASK && url.password === '') keepsCredentials = true;
    else credentials = url.password === '' ? url.username : `${url.username}:${url.password}`;
    url.username = '';
    url.password = '';
  }
  return { url: url.href, credentials, keepsCredentials };
}

/**
 * The URL as shown: its credentials, if any, masked. Credentials still inside the URL (stored
 * before they were kept apart) are masked too, never shown.
 */
export function maskRepoUrl(url: string, hasCredentials: boolean): string {
  // Every service on the wire passes here: a URL without `@` carries no credentials to mask.
  if (!hasCredentials && !url.includes('@')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const inline = parsed.username !== '' || parsed.password !== '';
  if (!hasCredentials && !inline) return url;
  parsed.username = CREDENTIALS_MASK;
  parsed.password = '';
  return parsed.href;
}

/** A stored URL that still carries its credentials inline: the URL without them, and them. */
export function splitInlineCredentials(url: string): { url: string; credentials: string } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.username === '' && parsed.password === '') return null;
  const credentials = parsed.password === '' ? parsed.username : `${parsed.username}:${parsed.password}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, credentials };
}

/** The URL git clones: its credentials put back (they are URL-encoded already). */
export function repoUrlWithCredentials(url: string, credentials: string | null): string {
  if (credentials === null) return url;
  const parsed = new URL(url);
  const colon = credentials.indexOf(':');
  parsed.username = colon === -1 ? credentials : credentials.slice(0, colon);
  if (colon !== -1) parsed.password = credentials.slice(colon + 1);
  return parsed.href;
}

/** `localhost`, `*.localhost`, `*.local`, `*.internal` and IP literals of non-public ranges. */
function isLocalHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || /\.(localhost|local|internal)$/.test(name) || name === 'metadata.google.internal') {
    return true;
  }
  if (name.includes(':')) return true; // IPv6 literals: loopback, link-local and mapped forms are too many to list
  const octets = name.split('.');
  if (octets.length !== 4 || !octets.every((part) => /^\d{1,3}$/.test(part))) {
    // WHATWG URLs turn 0x7f.1, 2130706433 and the like into dotted form, so a numeric host is dotted here.
    return false;
  }
  const [a, b] = octets.map(Number) as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}
