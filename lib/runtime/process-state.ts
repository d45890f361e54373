/**
 * The process runtime's record of each replica: DATA_DIR/replicas/<replicaId>/state.json
 * (mode 600: it holds the admin token), written atomically; and what a record says about
 * its process (still running: same pid and start time; how it exited).
 */
import { constants as osConstants } from "node:os";
import { promises as fs } from "node:fs";
import path from "node:path";
import { isSameProcessRunning } from "@/lib/process/identity";
import { isSafeReplicaId } from "./replica-env";
import { LABEL_MANAGED, type ReplicaSpec } from "./types";

export type StateFile = {
  version: 1;
  labels: Record<string, string>;
  replicaId: string;
  serviceId: string;
  serviceName: string;
  pid: number;
  /** /proc/<pid>/stat starttime, clock ticks after boot */
  procStartTicks: number;
  host: string;
  dataPort: number;
  adminPort: number;
  startedAt: string;
  command: string[];
  spec: ReplicaSpec;
  /** known only when this panel was the parent when the process ended */
  exitCode: number | null;
  stoppedAt: string | null;
};

export const STATE_FILE = "state.json";

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Is the process this state file describes still running (same pid and same start time, not a zombie)? */
export function isRunning(s: Pick<StateFile, "pid" | "procStartTicks">): Promise<boolean> {
  return isSameProcessRunning({ pid: s.pid, startTicks: s.procStartTicks });
}

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  if (signal) return 128 + (osConstants.signals[signal] ?? 0);
  return null;
}

/** The state files under `root` (DATA_DIR/replicas), one folder a replica. */
export function createStateStore(root: string) {
  const dirOf = (replicaId: string) => path.join(root, replicaId);

  async function readState(replicaId: string): Promise<StateFile | null> {
    try {
      return JSON.parse(await fs.readFile(path.join(dirOf(replicaId), STATE_FILE), "utf8")) as StateFile;
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return null;
      if (e instanceof SyntaxError) return null; // half-written by a crashed panel: ignore, like a missing file
      throw e;
    }
  }

  async function writeState(s: StateFile): Promise<void> {
    const dir = dirOf(s.replicaId);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `${STATE_FILE}.${process.pid}.tmp`);
    await fs.writeFile(tmp, JSON.stringify(s, null, 2) + "\n", { mode: 0o600 });
    await fs.rename(tmp, path.join(dir, STATE_FILE));
  }

  async function readAllStates(): Promise<StateFile[]> {
    let names: string[];
    try {
      names = await fs.readdir(root);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return [];
      throw e;
    }
    const states = await Promise.all(names.filter(isSafeReplicaId).map(readState));
    return states.filter((s): s is StateFile => s !== null && s.labels?.[LABEL_MANAGED] === "true");
  }

  return { dirOf, readState, writeState, readAllStates };
}
