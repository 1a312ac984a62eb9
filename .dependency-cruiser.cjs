/**
 * Layer rules (DESIGN.md), checked by `npm test`:
 * - the core imports no third-party package and no other workspace package;
 * - inside the core, Node built-ins only in `src/system/` (and the test-only `src/testing/`);
 *   the in-process adapters (`src/in-process/`) use none;
 * - inside the core, arrows point inwards, type-only imports included: domain ← query, policy ←
 *   ports ← use cases ← jobs (the handlers the queue adapters call); system (the ports' defaults)
 *   sees domain and ports; none of them imports the harness (`src/testing/`), tests may;
 * - production code (the packages' and examples' `src`, tests aside) never imports the core's
 *   test fakes (`@shipyard/core/testing`): its in-process adapters are `@shipyard/core/in-process`;
 * - an adapter never imports another adapter; only examples/ and test/ compose them;
 * - nothing imports the examples or the test suites.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-package',
      comment: 'packages/core must stay framework-free: no npm package at all. Put it behind a port.',
      severity: 'error',
      from: { path: '^packages/core/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'core-imports-no-workspace-package',
      comment: 'packages/core may not import adapters, examples or tests.',
      severity: 'error',
      from: { path: '^packages/core/' },
      to: { path: '^(packages/adapters-|examples/|test/)' },
    },
    {
      name: 'core-node-builtins-only-in-system',
      comment: 'Node built-ins are confined to packages/core/src/system (defaults of ports).',
      severity: 'error',
      from: { path: '^packages/core/src/', pathNot: '^packages/core/src/(system|testing)/|\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    // The core's inner layers. Every import counts, `import type` too (tsPreCompilationDeps), and
    // `to` takes the whole package, so a file importing `@shipyard/core` (its dist) breaks the rule
    // too. Tests are exempt: they may use the harness in src/testing.
    {
      name: 'core-domain-imports-only-domain',
      comment:
        'The domain (entities, errors, the model, job names and payloads) is the innermost layer: it imports nothing else of the core.',
      severity: 'error',
      from: { path: '^packages/core/src/domain/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/domain/' },
    },
    {
      name: 'core-query-and-policy-import-only-domain',
      comment: 'List queries and the tenant-isolation policy are rules over the domain: they import the domain only.',
      severity: 'error',
      from: { path: '^packages/core/src/(query|policy)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/(domain|$1)/' },
    },
    {
      name: 'core-ports-import-domain-and-query',
      comment: 'Ports speak the domain (and list queries); they never import use cases, jobs or adapters.',
      severity: 'error',
      from: { path: '^packages/core/src/ports/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/(domain|query|ports)/' },
    },
    {
      name: 'core-use-cases-import-inner-layers',
      comment:
        'Use cases import the domain, list queries, the policy and the ports; the job handlers, the defaults (src/system), the harness and the tokens sit above them.',
      severity: 'error',
      from: { path: '^packages/core/src/use-cases/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/(domain|query|policy|ports|use-cases)/' },
    },
    {
      name: 'core-jobs-import-use-cases-and-below',
      comment:
        'The job handlers route deliveries to the use cases; they never import the defaults, the harness or the tokens.',
      severity: 'error',
      from: { path: '^packages/core/src/jobs/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/(domain|query|policy|ports|use-cases|jobs)/' },
    },
    {
      name: 'core-system-imports-domain-and-ports',
      comment: "The ports' defaults (src/system) implement ports: they import the domain and the ports only.",
      severity: 'error',
      from: { path: '^packages/core/src/system/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/core/', pathNot: '^packages/core/src/(domain|ports|system)/' },
    },
    {
      name: 'core-in-process-imports-no-harness',
      comment:
        'The in-process adapters (the embedded default, @shipyard/core/in-process) implement ports and run job handlers; they never import the harness, the defaults in src/system or the tokens.',
      severity: 'error',
      from: { path: '^packages/core/src/in-process/', pathNot: '\\.test\\.ts$' },
      to: {
        path: '^packages/core/',
        pathNot: '^packages/core/src/(domain|query|policy|ports|use-cases|jobs|in-process)/',
      },
    },
    {
      name: 'production-imports-no-core-testing',
      comment:
        'packages/core/src/testing holds test fakes and the harness: production code takes the in-process adapters from @shipyard/core/in-process.',
      severity: 'error',
      from: { path: '^(packages|examples)/[^/]+/src/', pathNot: '\\.test\\.ts$|^packages/core/src/testing/' },
      to: { path: '^packages/core/(src|dist)/testing/' },
    },
    {
      name: 'adapters-do-not-import-each-other',
      comment: 'Only examples/ (the composition roots) and test/ combine adapters.',
      severity: 'error',
      from: { path: '^packages/(adapters-[^/]+)/' },
      to: { path: '^packages/adapters-[^/]+/', pathNot: '^packages/$1/' },
    },
    {
      name: 'packages-do-not-import-examples-or-tests',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^(examples|test)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^packages/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    // Compiled output is never a starting point, and a dependency into it (a workspace package's
    // `dist`, a library's `dist`) is recorded, so the rules see it, but not followed further.
    doNotFollow: { path: '(^|/)(node_modules|dist)/' },
    exclude: { path: '^test/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default', 'node'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    preserveSymlinks: false,
  },
};
