/**
 * Is a process still the one we mean? A pid alone does not name a process (pids are
 * reused), so a process is named by its pid and its start time (/proc/<pid>/stat field
 * 22, clock ticks after boot), taken when it was spawned or found. Linux /proc.
 */
import { readFileSync } from "node:fs";
import { parseProcParent } from "@/lib/process/proc-stat";
import { readProcStat } from "@/lib/process/procfs";
import { readPidFile, readPidFileSync } from "@/lib/process/pid-file";

export type ProcessIdentity = {
  pid: number;
  /** /proc/<pid>/stat starttime; -1 when it could not be read (the process ended at once) */
  startTicks: number;
};

/** Alive and not a zombie (a zombie holds its pid but serves nothing). Without /proc: whether the pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return parseProcParent(readFileSync(`/proc/${pid}/stat`, "utf8"))?.state !== "Z";
  } catch {
    return true;
  }
}

/** The identity of the running process `pid`, or null when it is gone. */
export async function identify(pid: number): Promise<ProcessIdentity | null> {
  const st = await readProcStat(pid);
  return st === null ? null : { pid, startTicks: st.startTicks };
}

/** Does this process still run: same pid, same start time, neither zombie nor dead? pid 0 never runs. */
export async function isSameProcessRunning(p: ProcessIdentity): Promise<boolean> {
  if (!p.pid) return false;
  const st = await readProcStat(p.pid);
  return st !== null && st.startTicks === p.startTicks && st.state !== "Z" && st.state !== "X";
}

/**
 * The pid file's process when it is alive (not a zombie) and `isOurs` says it is the one
 * meant (its command line, its answer on a socket): a pid file may outlive its process
 * and the pid be reused, and a stranger must never be signalled. Null otherwise.
 */
export async function livePidFromFile(file: string, isOurs: (pid: number) => boolean | Promise<boolean> = () => true): Promise<number | null> {
  const pid = await readPidFile(file);
  return pid !== null && isAlive(pid) && (await isOurs(pid)) ? pid : null;
}

/** livePidFromFile, synchronous (for checks made in a loop). */
export function livePidFromFileSync(file: string, isOurs: (pid: number) => boolean = () => true): number | null {
  const pid = readPidFileSync(file);
  return pid !== null && isAlive(pid) && isOurs(pid) ? pid : null;
}
