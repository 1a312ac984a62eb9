/**
 * Settles as `promise` does, unless `ms` pass first: then it rejects with the error
 * `timeoutError(ms)` makes (built when the time is up). The timer is cleared either way.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: (ms: number) => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
