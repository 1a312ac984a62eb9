import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (these suites run from test/dist/package). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
export const existsInRepo = (path: string): boolean => existsSync(join(ROOT, path));

interface PackageJson {
  name: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}

export const packageJson = (dir = '.'): PackageJson => JSON.parse(readRepoFile(join(dir, 'package.json')));

/**
 * The `node …` command at the end of a root package.json script, as argv
 * (`npm run build && node --flag x.js` → `['node', '--flag', 'x.js']`).
 */
export function nodeCommandOfScript(name: string): string[] {
  const script = packageJson().scripts?.[name];
  if (script === undefined) throw new Error(`package.json has no "${name}" script`);
  const last = script.split('&&').at(-1)?.trim() ?? '';
  const argv = last.split(/\s+/);
  if (argv[0] !== 'node') throw new Error(`The "${name}" script does not end with a node command: ${script}`);
  return argv;
}

/** The workspace folders whose package the composition root (examples/koa-server) needs at run time, itself included. */
export function serverWorkspaces(): string[] {
  const root = packageJson();
  const byName = new Map((root.workspaces ?? []).map((dir) => [packageJson(dir).name, dir]));
  const needed = new Set<string>();
  const visit = (dir: string) => {
    if (needed.has(dir)) return;
    needed.add(dir);
    for (const dependency of Object.keys(packageJson(dir).dependencies ?? {})) {
      const workspace = byName.get(dependency);
      if (workspace !== undefined) visit(workspace);
    }
  };
  visit('examples/koa-server');
  return [...needed].sort();
}

/** The configuration module of the composition root, compiled (`tsc -b` ran before the tests). */
export async function koaServerConfig(): Promise<{ CONFIG_VARIABLES: readonly string[] }> {
  return import(new URL('../../../examples/koa-server/dist/config.js', import.meta.url).href);
}
