/**
 * Types of this adapter alone. The ports it implements (`BuildRunner`, `DeploymentRuntime`) and
 * their requests, outcomes and artifacts are the core's: import them from `@shipyard/core`.
 */

/** The user and group a build or an app runs as (supplementary groups are dropped). */
export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Resource limits of every process of a build or an app, applied through `prlimit` (util-linux).
 * `null` leaves that limit as it is.
 */
export interface ResourceLimits {
  /**
   * The data segment of each process (`RLIMIT_DATA`, `prlimit --data`): the heap and the private
   * writable mappings it has really asked for, not the address space V8 merely reserves (an
   * address-space limit makes WebAssembly fail even at 4 GiB). Default 2 GiB.
   */
  memoryBytes?: number | null;
  /**
   * Processes and threads of the user the children run as, all of them together (`RLIMIT_NPROC`
   * counts per user, and a Node process has about 7 threads): with a uid per service, of the
   * service's builds and apps. Default 1024 when the children run as a user of their own (`runAs`);
   * none when they run as the server's user, whose own processes would count too. Not enforced
   * for root.
   */
  processes?: number | null;
  /** Open files of each process (`RLIMIT_NOFILE`). Default 4096. */
  openFiles?: number | null;
}
