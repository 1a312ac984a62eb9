import { dirname, join } from 'node:path';

/** PATH for builds and apps when none is configured: this Node's own directory, then the system's. */
export const DEFAULT_CHILD_PATH = [
  dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
].join(':');

export interface ChildEnvBase {
  path: string;
  home: string;
}

/**
 * The whole environment of a build or an app: a minimal PATH/HOME/LANG and npm's cache under that
 * HOME with its calls home (update check, funding, audit) off, then the service's own variables,
 * then `extra` (what the runtime itself sets, such as PORT). Nothing of this process's environment
 * is inherited: no JWT_SECRET, DATABASE_URL or ENCRYPTION_KEYS can reach user code.
 */
export function childEnv(
  base: ChildEnvBase,
  serviceEnv: Readonly<Record<string, string>>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: base.path,
    HOME: base.home,
    LANG: 'C.UTF-8',
    npm_config_cache: join(base.home, '.npm'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...serviceEnv,
    ...extra,
  };
}
