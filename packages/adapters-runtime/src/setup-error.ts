/** The runtime cannot work as configured (a work root the build user cannot enter, a user it cannot become). */
export class RuntimeSetupError extends Error {
  readonly code = 'runtime_misconfigured';
}
