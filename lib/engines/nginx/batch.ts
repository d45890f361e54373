/**
 * Changes collected into one reload: nginx OSS has no runtime API, so every server
 * change re-renders and reloads; the changes handed in within `delayMs` of the first
 * share one run, and each caller learns how that run went.
 */
type Waiter = { resolve: () => void; reject: (e: unknown) => void };

export class ReloadBatch {
  private timer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];

  constructor(
    private readonly delayMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  /** Resolves (or fails) with the run that takes this change: the next one to start. */
  join(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.timer === null) this.timer = setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Fail every change not run yet (the engine stops). */
  cancel(reason: unknown): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const waiters = this.waiters.splice(0);
    try {
      await this.run();
      for (const w of waiters) w.resolve();
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
  }
}
