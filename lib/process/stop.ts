/** Escalating stop: each signal in turn (graceful first), each given its time to work. */
import { isAlive } from "@/lib/process/identity";
import { sleep } from "@/lib/process/sleep";

export type StopStep = readonly [NodeJS.Signals, number];

export type StopTarget = {
  /** send the signal; false when there is no process left to send it to */
  signal(signal: NodeJS.Signals): boolean;
  isRunning(): boolean | Promise<boolean>;
};

/** Send each step's signal and wait up to its time for the target to go. Returns true when it is gone. */
export async function stopEscalating(target: StopTarget, steps: readonly StopStep[], pollMs = 50): Promise<boolean> {
  for (const [signal, waitMs] of steps) {
    if (!target.signal(signal)) return true;
    const deadline = Date.now() + waitMs;
    while ((await target.isRunning()) && Date.now() < deadline) await sleep(pollMs);
    if (!(await target.isRunning())) return true;
  }
  return !(await target.isRunning());
}

/** Signal a process; false when it is gone (or not ours to signal). */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Signal the process group a detached child leads, or the process alone when there is no group; false when neither is there. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  return signalPid(-pid, signal) || signalPid(pid, signal);
}

/**
 * Stop a supervised process: send each signal in turn (graceful first) and wait up to
 * its time for the process to go. Returns true when it is gone.
 */
export function stopWithEscalation(pid: number, steps: readonly StopStep[]): Promise<boolean> {
  return stopEscalating({ signal: (s) => signalPid(pid, s), isRunning: () => isAlive(pid) }, steps);
}
