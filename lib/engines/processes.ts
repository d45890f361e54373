import { readFileSync } from "node:fs";

/** Alive and not a zombie (a zombie holds its pid but serves nothing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/**
 * Stop a supervised engine: send each signal in turn (graceful first) and wait up to
 * its time for the process to go. Returns true when it is gone.
 */
export async function stopWithEscalation(pid: number, steps: readonly (readonly [NodeJS.Signals, number])[]): Promise<boolean> {
  for (const [signal, waitMs] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return true;
    }
    const deadline = Date.now() + waitMs;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!isAlive(pid)) return true;
  }
  return !isAlive(pid);
}
