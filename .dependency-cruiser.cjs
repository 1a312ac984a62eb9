/**
 * Layer rules (DESIGN.md), checked by `npm test`:
 * - the core imports no third-party package and no other workspace package;
 * - inside the core, Node built-ins only in `src/system/` (and the test-only `src/testing/`);
 *   the in-process adapters (`src/in-process/`) use none;
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
