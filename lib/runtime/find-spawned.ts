import { promises as fs } from "node:fs";
import { listPids, readProcStat } from "@/lib/process/procfs";

/**
 * Finding a replica process whose pid was never recorded: the panel was killed between
 * spawning it and writing its pid to the state file. The process runtime records the
 * replica (without a pid) before it spawns, so a restarted panel knows the process may
 * exist; the process itself is found by its own environment, the variables replicaEnv
 * gives every replica (REPLICA_ID and its two ports), as the session leader a detached
 * spawn made it (children of a replica that inherited the environment lead no session).
 */

/** Does a NUL-separated /proc/<pid>/environ hold every one of `marks` exactly? */
export function environHas(environ: string, marks: Record<string, string>): boolean {
  const vars = new Set(environ.split("\0"));
  return Object.entries(marks).every(([k, v]) => vars.has(`${k}=${v}`));
}

/** The live session-leading process carrying `marks` in its environment, or null. Linux /proc; other users' processes are not readable unless root. */
export async function findSpawnedProcess(marks: Record<string, string>): Promise<{ pid: number; startTicks: number } | null> {
  const first = Object.entries(marks)[0];
  if (!first) return null;
  const needle = `${first[0]}=${first[1]}`;
  for (const pid of await listPids()) {
    const environ = await fs.readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    if (!environ.includes(needle) || !environHas(environ, marks)) continue; // a cheap look first: most processes are not it
    const st = await readProcStat(pid);
    if (st && st.session === pid && st.state !== "Z" && st.state !== "X") return { pid, startTicks: st.startTicks };
  }
  return null;
}
