/**
 * The controller's work queue: one entry per key (a service id), coalescing kicks, one
 * run at a time per key, and capped exponential backoff after failures (the
 * Kubernetes sample-controller's rate-limited queue, reduced to what the panel needs).
 * What a run does is the caller's: the reconciler hands in its reconcile.
 */

/** Capped exponential backoff: 1 s, 2 s, 4 s ... at most 30 s (by default). The one formula of the controller. */
export function backoffMs(failures: number, opts: { firstMs: number; maxMs: number } = { firstMs: 1000, maxMs: 30_000 }): number {
  return Math.min(opts.firstMs * 2 ** (failures - 1), opts.maxMs);
}

/** Timers behind a port, so a test can see the delays asked for and fire them itself. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const nodeTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

type Entry = { running: boolean; again: boolean; failures: number; timer: unknown };

export class WorkQueue {
  private readonly entries = new Map<string, Entry>();
  /** halted: no run starts until resume() (work still finishing must not kick one) */
  private halted = false;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    /** a run failed; it runs again after `delayMs` */
    private readonly onRetry: (key: string, error: unknown, delayMs: number) => Promise<void>,
    private readonly timers: Timers = nodeTimers,
  ) {}

  /** Ask for a run of `key` soon (coalesced; one at a time per key). */
  kick(key: string): void {
    if (this.halted) return;
    let q = this.entries.get(key);
    if (!q) {
      q = { running: false, again: false, failures: 0, timer: null };
      this.entries.set(key, q);
    }
    if (q.running) {
      q.again = true;
      return;
    }
    if (q.timer) return; // a backoff is pending; it will run
    void this.run(key, q);
  }

  /** Kick `key` after `delayMs`, apart from its backoff (a retry the caller keeps count of). */
  kickLater(key: string, delayMs: number): void {
    this.timers.set(() => this.kick(key), delayMs);
  }

  isRunning(key: string): boolean {
    return this.entries.get(key)?.running ?? false;
  }

  /** Work done for `key` outside a run failed (a replica did not come up): the next backoff grows. */
  noteFailure(key: string): void {
    const q = this.entries.get(key);
    if (q) q.failures++;
  }

  /**
   * Work done for `key` outside a run has ended: run again, at once, or after the backoff
   * while failures are counted (`succeeded` clears them).
   */
  afterTask(key: string, succeeded: boolean): void {
    const q = this.entries.get(key);
    if (succeeded && q) q.failures = 0;
    if (q && q.failures > 0 && !q.timer) this.backoff(key, q);
    else this.kick(key);
  }

  halt(): void {
    this.halted = true;
    for (const q of this.entries.values()) {
      if (q.timer) this.timers.clear(q.timer);
      q.timer = null; // else a kick after resume() would wait for a timer that never fires
    }
  }

  resume(): void {
    this.halted = false;
  }

  private backoff(key: string, q: Entry, delayMs = backoffMs(q.failures)): void {
    q.timer = this.timers.set(() => {
      q.timer = null;
      this.kick(key);
    }, delayMs);
  }

  private async run(key: string, q: Entry): Promise<void> {
    q.running = true;
    q.again = false;
    try {
      await this.work(key);
      q.failures = 0;
    } catch (e) {
      q.failures++;
      const delay = backoffMs(q.failures);
      await this.onRetry(key, e, delay).catch(() => undefined);
      this.backoff(key, q, delay);
    } finally {
      q.running = false;
      if (q.again && !q.timer) this.kick(key);
    }
  }
}
