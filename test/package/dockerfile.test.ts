/**
 * The Dockerfile read statically (no Docker daemon here): its stages, what the final image holds
 * and runs, and that every path it copies or starts exists once `tsc -b` has run.
 */
import test from 'ava';
import { existsInRepo, nodeCommandOfScript, packageJson, readRepoFile, serverWorkspaces } from './repo.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with their continuation lines joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (match === null) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = match[2] ?? '';
    if (keyword === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const base = image.replace(/^\$\{?(\w+)\}?$/, (_, arg: string) => args.get(arg) ?? image);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [key = '', value = ''] = rest.split('=');
      args.set(key.trim(), value.trim());
    } else {
      stages.at(-1)?.instructions.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const build = dockerfile.stages[0];
const final = dockerfile.stages.at(-1);
const all = (stage: Stage | undefined, keyword: string) =>
  (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
const execForm = (args: string): string[] => JSON.parse(args.replace(/^--\S+\s+/g, ''));
/** `COPY [--from=x] src… dest` → its sources and destination (WORKDIR /app: relative to the root). */
const copies = (stage: Stage | undefined) =>
  all(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
  });

test('two stages on one node image pinned by its full version, the last one the runtime', (t) => {
  t.true(dockerfile.stages.length >= 2, 'a build stage and a runtime stage');
  for (const stage of dockerfile.stages) {
    t.regex(stage.base, /^node:\d+\.\d+\.\d+-[a-z]+-slim$/, `FROM ${stage.base}: a node image pinned by tag`);
  }
  t.is(build?.name, 'build');
  t.is(final?.base, build?.base, 'both stages on the same image, so native modules built for one run on the other');
  const major = Number(/^node:(\d+)/.exec(final?.base ?? '')?.[1]);
  const engines = (packageJson() as unknown as { engines: { node: string } }).engines.node;
  t.true(major >= Number(/(\d+)/.exec(engines)?.[1]), `node ${major} satisfies engines ${engines}`);
});

test('the build stage installs every dependency and compiles with tsc -b', (t) => {
  const runs = all(build, 'RUN').join('\n');
  t.regex(runs, /npm ci(?![^\n]*--omit=dev)/, 'npm ci with the dev dependencies (TypeScript)');
  t.regex(runs, /tsc -b/);
});

test('the runtime stage has production dependencies only, and no compiler', (t) => {
  const runs = all(final, 'RUN');
  const installs = runs.filter((r) => /npm (ci|install|i)\b/.test(r));
  t.true(installs.length > 0, 'the runtime stage installs its dependencies');
  for (const install of installs) t.regex(install, /--omit=dev/, install);
  t.false(
    runs.some((r) => /\btsc\b|npx /.test(r)),
    'nothing is compiled in the runtime stage',
  );
  for (const copy of copies(final)) {
    t.false(
      copy.sources.some((s) => /node_modules/.test(s)),
      `COPY ${copy.sources.join(' ')}: node_modules come from npm ci --omit=dev, never from the build stage`,
    );
  }
  const env = all(final, 'ENV').join(' ');
  t.regex(env, /\bNODE_ENV=production\b/);
});

test('the runtime stage installs what the local runtime spawns: git, sh, prlimit', (t) => {
  const runs = all(final, 'RUN').join('\n');
  const install = /apt-get install[^&]*/.exec(runs)?.[0] ?? '';
  t.regex(install, /\bgit\b/, 'git clones the services');
  t.regex(install, /\butil-linux\b/, 'prlimit applies the limits');
  t.regex(install, /\bca-certificates\b/, 'https clones');
  // sh is the base image's dash: builds and start commands run through `sh -c`.
  const spawned = readRepoFile('packages/adapters-runtime/src/local-build-runner.ts');
  t.regex(spawned, /this\.step\('git'/);
  t.regex(spawned, /this\.step\('sh', \['-c'/);
});

test('the runtime stage copies the compiled dist of every workspace the server needs, and they exist', (t) => {
  const fromBuild = copies(final).filter((c) => c.from === 'build');
  const copied = new Set(fromBuild.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, ''))));
  for (const workspace of serverWorkspaces()) {
    t.true(copied.has(`${workspace}/dist`), `${workspace}/dist is copied from the build stage`);
  }
  for (const path of copied) t.true(existsInRepo(path), `${path} exists after tsc -b`);
  const installs = all(final, 'RUN').filter((r) => /npm ci/.test(r));
  for (const install of installs) {
    for (const workspace of [...install.matchAll(/--workspace[= ](\S+)/g)].map((m) => m[1] ?? '')) {
      t.true(existsInRepo(`${workspace}/package.json`), `npm ci --workspace=${workspace}`);
    }
  }
});

test('both stages copy the package.json of every workspace before npm ci, and the sources they name exist', (t) => {
  const workspaces = packageJson().workspaces ?? [];
  for (const stage of [build, final]) {
    const local = copies(stage).filter((c) => c.from === undefined);
    const sources = new Set(local.flatMap((c) => c.sources));
    t.true(sources.has('package.json') && sources.has('package-lock.json'), `${stage?.name ?? 'final'}: the lock file`);
    for (const workspace of workspaces) {
      t.true(sources.has(`${workspace}/package.json`), `${stage?.name ?? 'final'}: ${workspace}/package.json (npm ci)`);
    }
    for (const source of sources) t.true(existsInRepo(source), `COPY ${source}`);
  }
});

test('the final image runs as an unprivileged user', (t) => {
  const users = all(final, 'USER');
  t.true(users.length > 0, 'a USER instruction in the runtime stage');
  const user = users.at(-1) ?? '';
  t.notRegex(user, /^(root|0)(:|$)/, `USER ${user}`);
});

test('the health check asks the server health route with node (no curl in the slim image)', (t) => {
  const checks = all(final, 'HEALTHCHECK');
  t.is(checks.length, 1);
  const check = checks[0] ?? '';
  const command = execForm(check.replace(/^(--\S+\s+)*CMD\s+/, ''));
  t.is(command[0], 'node');
  const script = command.join(' ');
  t.regex(script, /\/health\b/);
  t.regex(script, /process\.env\.PORT/);
  // The route it asks is the one the HTTP adapter serves.
  t.regex(readRepoFile('packages/adapters-http/src/app.ts'), /root\.get\('\/health'/);
});

test('the default command starts the server with the flags of `npm start`, and its script exists', (t) => {
  const [cmd] = all(final, 'CMD');
  const command = execForm(cmd ?? '[]');
  t.deepEqual(command, nodeCommandOfScript('start'));
  t.true(existsInRepo(command.at(-1) ?? ''), `${command.at(-1)} exists after tsc -b`);
  const [entrypoint] = all(final, 'ENTRYPOINT');
  if (entrypoint !== undefined) {
    // An init (tini) in front: `docker run IMAGE node …` still replaces only the command.
    t.regex(entrypoint, /tini/);
  }
});

test('the header documents the worker and migrate commands, the ones of `npm run worker` and `npm run migrate`', (t) => {
  const text = readRepoFile('Dockerfile');
  for (const script of ['worker', 'migrate']) {
    const command = nodeCommandOfScript(script);
    t.true(text.includes(command.join(' ')), `the Dockerfile shows ${command.join(' ')}`);
    t.true(existsInRepo(command.find((a) => a.endsWith('.js')) ?? ''), `${script}: its script exists after tsc -b`);
  }
});

test('.dockerignore keeps dependencies, compiled output and local data out of the context', (t) => {
  const ignored = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const pattern of ['**/node_modules', '**/dist', '.git', '.data', '.env']) {
    t.true(ignored.includes(pattern), `.dockerignore lists ${pattern}`);
  }
});
