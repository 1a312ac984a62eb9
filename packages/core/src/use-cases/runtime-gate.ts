/**
 * Keeps the runtime's reconciler and the deployment jobs of one process apart: deployments run
 * side by side (`shared`), a reconcile runs alone (`exclusive`), after the deployments in flight
 * and before the next ones. So a reconcile reads the rows and acts on the instances with no
 * deploy half done: it never stops an instance that is starting, nor starts again the deployment
 * that a new one just superseded.
 */
export class RuntimeGate {
  private sharedCount = 0;
  private exclusiveHeld = false;
  private readonly waiting: Array<{ exclusive: boolean; wake: () => void }> = [];

  async shared<T>(work: () => Promise<T>): Promise<T> {
    await this.enter(false);
    try {
      return await work();
    } finally {
      this.sharedCount -= 1;
      this.next();
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await this.enter(true);
    try {
      return await work();
    } finally {
      this.exclusiveHeld = false;
      this.next();
    }
  }

  private enter(exclusive: boolean): Promise<void> {
    // First come, first served: a waiting reconcile is not starved by a stream of deployments.
    if (this.waiting.length === 0 && this.admissible(exclusive)) {
      this.take(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ exclusive, wake: resolve }));
  }

  private admissible(exclusive: boolean): boolean {
    return exclusive ? !this.exclusiveHeld && this.sharedCount === 0 : !this.exclusiveHeld;
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusiveHeld = true;
    else this.sharedCount += 1;
  }

  private next(): void {
    while (this.waiting.length > 0) {
      const first = this.waiting[0] as { exclusive: boolean; wake: () => void };
      if (!this.admissible(first.exclusive)) return;
      this.waiting.shift();
      this.take(first.exclusive);
      first.wake();
      if (first.exclusive) return;
    }
  }
}
