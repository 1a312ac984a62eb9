// The fault-injection suites (test/faults): real servers and workers, a scratch Redis and a
// PostgreSQL behind a cuttable proxy. Run one file at a time, apart from the other suites, so
// their deadlines measure the system and not a machine busy with other tests.
import pkg from './package.json' with { type: 'json' };

export default {
  ...pkg.ava,
  files: ['test/faults/**/*.test.ts'],
  timeout: '3m',
};
