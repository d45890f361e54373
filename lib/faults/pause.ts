/**
 * Pause: the replica is frozen (docker pause, the cgroup freezer; SIGSTOP to a process
 * replica's group) and undone by unfreezing it. Its connections stay open and its port
 * keeps accepting, so the balancer finds out by its health checks and routes around it.
 */
import { AppError } from "@/lib/core/errors";
import { runtimeFor } from "@/lib/runtime/registry";
import type { Runtime } from "@/lib/runtime/types";
import type { FaultKind, FaultTarget } from "./types";

export type PauseParams = Record<string, never>;
/** the runtime reference that was frozen (container id or pid) */
export type PauseState = { ref: string };

type Pausable = Required<Pick<Runtime, "pause" | "unpause" | "isPaused">>;

function pausable(target: FaultTarget): Pausable {
  const rt = runtimeFor(target.runtime);
  if (!rt.pause || !rt.unpause || !rt.isPaused) throw new AppError("conflict", `the ${target.runtime} runtime cannot pause a replica`);
  return rt as Pausable;
}

function runningRef(target: FaultTarget): string {
  if (!target.runtimeRef) throw new AppError("conflict", `replica ${target.replicaId} is not running`);
  return target.runtimeRef;
}

export const pauseKind: FaultKind<PauseParams, PauseState> = {
  name: "pause",
  async apply(target) {
    const ref = runningRef(target);
    await pausable(target).pause(ref);
    return { ref };
  },
  async undo(target) {
    // only the replica as it runs now: a recorded pid may since name another process
    if (target?.runtimeRef) await pausable(target).unpause(target.runtimeRef);
  },
  async resume(target) {
    if (!target.runtimeRef) return null;
    const rt = pausable(target);
    if (!(await rt.isPaused(target.runtimeRef))) await rt.pause(target.runtimeRef);
    return { ref: target.runtimeRef };
  },
};
