/**
 * The process runtime's watcher behind onEvent: while someone listens it looks at every
 * replica's process each interval (and at once when one of its own children exits) and
 * reports a death ("died") of a process it saw running.
 */
import type { ChildProcess } from "node:child_process";
import { describeExit } from "./exit-reason";
import { exitCodeOf, isRunning, type StateFile } from "./process-state";
import type { RuntimeEvent } from "./types";

export function createExitWatcher(deps: {
  intervalMs: number;
  readAllStates: () => Promise<StateFile[]>;
  /** children this panel spawned: their exit codes are known */
  children: ReadonlyMap<number, ChildProcess>;
  stderrTail: (replicaId: string) => Promise<string[]>;
  /** did the kernel kill it for memory (its cgroup's limit)? */
  oomKilled: (replicaId: string) => Promise<boolean>;
  emit: (e: RuntimeEvent) => void;
}) {
  let watching = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  /** replicas seen running at the last look, with their pid */
  const watched = new Map<string, number>();
  /** completed looks since the watcher started (a death after the first one is reported) */
  let looks = 0;

  async function tick(): Promise<void> {
    if (!watching || ticking) return;
    ticking = true;
    try {
      const states = await deps.readAllStates();
      const seen = new Set<string>();
      for (const s of states) {
        seen.add(s.replicaId);
        if (await isRunning(s)) {
          watched.set(s.replicaId, s.pid);
          continue;
        }
        if (watched.get(s.replicaId) !== s.pid) continue;
        // Our own child that has not been reaped yet: its exit handler records the code, then looks again.
        const child = deps.children.get(s.pid);
        if (child && child.exitCode === null && child.signalCode === null) continue;
        watched.delete(s.replicaId);
        const exitCode = s.exitCode ?? (child ? exitCodeOf(child.exitCode, child.signalCode) : null);
        const logTail = await deps.stderrTail(s.replicaId);
        const oomKilled = await deps.oomKilled(s.replicaId);
        const reason = describeExit({ exitCode, oomKilled, memoryLimitMb: s.spec.memoryLimitMb, logTail });
        deps.emit({ kind: "died", replicaId: s.replicaId, serviceId: s.serviceId, exitCode, reason });
      }
      for (const id of watched.keys()) if (!seen.has(id)) watched.delete(id); // removed
      looks++;
    } catch {
      /* an unreadable data dir now is retried on the next tick */
    } finally {
      ticking = false;
    }
  }

  function start(): void {
    if (watching) return;
    watching = true;
    void tick();
    timer = setInterval(() => void tick(), deps.intervalMs);
    timer.unref();
  }

  function stop(): void {
    watching = false;
    if (timer) clearInterval(timer);
    timer = undefined;
    watched.clear();
    looks = 0;
  }

  return {
    start,
    stop,
    /** one look now (skipped when not watching or a look is in progress) */
    tick,
    /** a replica this runtime just started: watched from now on, when watching */
    started(replicaId: string, pid: number): void {
      if (watching) watched.set(replicaId, pid);
    },
    /** completed looks since the watcher started */
    looks: (): number => looks,
  };
}
