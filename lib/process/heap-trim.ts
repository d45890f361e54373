import v8 from "node:v8";
import vm from "node:vm";
import { remember } from "@/lib/remember";

/**
 * A full garbage collection when the heap has grown TRIM_GROWTH_BYTES past what the last one
 * left (issue 18: the panel's RSS). V8 lets the old generation fill to about twice what is
 * live before it collects it, and a panel's garbage is mostly short-lived tick objects and
 * the JSON of snapshots that survived one young collection: with 50 replicas and 3 viewers
 * the heap held 139 MB of which 75 MB were live, and the RSS was 372 MB where a full GC
 * brought it to 273 MB (bench:panel --memory). Collecting at +40 MB keeps that garbage from
 * piling up in RSS; it costs a full collection of a ~100 MB heap (tens of ms) every half
 * minute or so under that load, checked every TRIM_CHECK_MS, never more often.
 */
export const TRIM_GROWTH_BYTES = 40 * 1048576;
export const TRIM_CHECK_MS = 10_000;

export class HeapTrim {
  private timer: NodeJS.Timeout | null = null;
  private liveBytes: number;
  /** how many collections it made, and the last one's pause (printed by nothing; read in a debugger or a test) */
  trims = 0;
  lastPauseMs = 0;

  constructor(
    private readonly gc: () => void,
    private readonly usedBytes: () => number,
    private readonly growthBytes = TRIM_GROWTH_BYTES,
  ) {
    this.liveBytes = usedBytes();
  }

  /** Collect if the heap grew past the threshold since the last collection; true if it did. */
  check(): boolean {
    if (this.usedBytes() < this.liveBytes + this.growthBytes) return false;
    const from = performance.now();
    this.gc();
    this.lastPauseMs = performance.now() - from;
    this.liveBytes = this.usedBytes();
    this.trims++;
    return true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), TRIM_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** V8's gc(), without starting node with --expose-gc (every way the panel starts would need the flag). */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/** The one trim of this process. */
export function heapTrim(): HeapTrim {
  return remember("heap-trim", () => new HeapTrim(fullGc(), () => v8.getHeapStatistics().used_heap_size));
}
