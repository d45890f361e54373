/**
 * The process runtime's record of each replica: DATA_DIR/replicas/<replicaId>/state.json
 * (mode 600: it holds the admin token), written atomically; and what a record says about
 * its process (still running: same pid and start time; how it exited).
 */
import { constants as osConstants } from "node:os";
import { promises as fs, statSync } from "node:fs";
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

/** What a state file's stat says about its version: a rename (every write here) gives a new inode. */
type FileVersion = { ino: number; size: number; mtimeMs: number; ctimeMs: number };

const sameVersion = (a: FileVersion, b: FileVersion) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/**
 * The state files under `root` (DATA_DIR/replicas), one folder a replica, with a copy of
 * each in memory. The copy is kept in step with what this store writes, and checked
 * against one stat() of the file before use, so a file another writer changed (another
 * panel process, an operator, a test) is read again; an unchanged one is never re-read
 * or re-parsed. (Re-reading every file on every lookup made the collector's cost grow
 * with the square of the number of replicas: issue 18.)
 */
export function createStateStore(root: string) {
  const dirOf = (replicaId: string) => path.join(root, replicaId);
  const fileOf = (replicaId: string) => path.join(root, replicaId, STATE_FILE);
  const cache = new Map<string, { state: StateFile; version: FileVersion }>();
  /** pid -> replica id, for the states in `cache` (a ref may be a pid) */
  const byPid = new Map<number, string>();
  let reads = 0;

  function remember(state: StateFile, version: FileVersion): StateFile {
    forget(state.replicaId);
    cache.set(state.replicaId, { state, version });
    if (state.pid > 0) byPid.set(state.pid, state.replicaId);
    return state;
  }

  function forget(replicaId: string): void {
    const old = cache.get(replicaId);
    if (!old) return;
    cache.delete(replicaId);
    if (byPid.get(old.state.pid) === replicaId) byPid.delete(old.state.pid);
  }

  /**
   * The file's identity now. A synchronous stat(): its inode is in the kernel's cache (the
   * file was read or written by this process), so it returns in microseconds, where a
   * promise through the thread pool cost more than the call (it runs per replica per second).
   */
  async function versionOf(replicaId: string): Promise<FileVersion | null> {
    try {
      const st = statSync(fileOf(replicaId), { throwIfNoEntry: false });
      if (!st) return null;
      return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
    } catch (e) {
      if (errnoOf(e) === "ENOENT" || errnoOf(e) === "ENOTDIR") return null;
      throw e;
    }
  }

  /** The file as it is now: the copy in memory when the file has not changed since, else read (and kept). */
  async function current(replicaId: string, version: FileVersion | null): Promise<StateFile | null> {
    if (!version) {
      forget(replicaId);
      return null;
    }
    const known = cache.get(replicaId);
    if (known && sameVersion(known.version, version)) return known.state;
    return readState(replicaId);
  }

  /** Reads the file (always), and keeps what it read. */
  async function readState(replicaId: string): Promise<StateFile | null> {
    try {
      const version = await versionOf(replicaId);
      if (!version) {
        forget(replicaId);
        return null;
      }
      reads++;
      const state = JSON.parse(await fs.readFile(fileOf(replicaId), "utf8")) as StateFile;
      if (state?.labels?.[LABEL_MANAGED] !== "true" || state.replicaId !== replicaId) {
        forget(replicaId);
        return state;
      }
      return remember(state, version);
    } catch (e) {
      forget(replicaId);
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
    await fs.rename(tmp, fileOf(s.replicaId));
    const version = await versionOf(s.replicaId);
    if (version) remember(s, version);
    else forget(s.replicaId);
  }

  /** Every managed state file: one readdir and one stat a replica; only new or changed files are read. */
  async function readAllStates(): Promise<StateFile[]> {
    let names: string[];
    try {
      names = (await fs.readdir(root)).filter(isSafeReplicaId);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") names = [];
      else throw e;
    }
    const listed = new Set(names);
    for (const id of [...cache.keys()]) if (!listed.has(id)) forget(id);
    const states = await Promise.all(names.map(async (id) => current(id, await versionOf(id))));
    return states.filter((s): s is StateFile => s !== null && s.labels?.[LABEL_MANAGED] === "true");
  }

  /**
   * The state a ref names (a pid as a string, or a replica id), from memory after one
   * stat() of its file; null when memory does not know it (the caller then scans).
   */
  async function lookup(ref: string): Promise<StateFile | null> {
    const pid = /^[1-9][0-9]{0,9}$/.test(ref) ? Number(ref) : 0;
    const ids = [pid > 0 ? byPid.get(pid) : undefined, ref].filter((id): id is string => id !== undefined && cache.has(id));
    for (const id of ids) {
      const s = await current(id, await versionOf(id));
      if (s && s.labels?.[LABEL_MANAGED] === "true" && ((pid > 0 && s.pid === pid) || s.replicaId === ref)) return s;
    }
    return null;
  }

  return {
    dirOf,
    readState,
    writeState,
    readAllStates,
    lookup,
    /** the folder is gone (remove): forget its copy */
    forget,
    /** state files read and parsed since this store was made (diagnostics, tests) */
    reads: (): number => reads,
  };
}
