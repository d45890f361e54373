/**
 * The process runtime: replicas are detached child processes on this host.
 *
 * Each replica lives in DATA_DIR/replicas/<replicaId>/ with
 *   state.json   labels, pid, the pid's start time, ports, command and the spec (mode 600: it holds the admin token)
 *   stdout.log   stderr.log   the replica's output (appended across restarts)
 * Children are spawned detached (own process group) and unreferenced, so they keep
 * serving when the panel stops; a new panel adopts them from the state files.
 *
 * Replicas never run as root (replica-user.ts): a panel running as root starts them as
 * the unprivileged `user`, one that is not root as itself. Their environment is built
 * from nothing: PATH, the service's variables and the runtime's own (replica-env.ts),
 * never the panel's. Files of the command that user cannot read are a refusal, or, for
 * the bundled replica app, a copy it can read (file-access.ts).
 *
 * runtimeRef is the pid as a string. Every method also accepts the replica id, which
 * stays the same across restarts while the pid does not.
 *
 * The state file is written before the spawn (pid 0: the intent) and again with the pid
 * after it. A panel killed in between leaves an intent and maybe a process: the next
 * list() finds that process by its environment (find-spawned.ts) and records it, or
 * marks the intent ended when there is none, so a restart never starts a twin beside an
 * unrecorded replica.
 *
 * A pid alone does not name a process (pids are reused), so the state file also
 * records the process start time (/proc/<pid>/stat field 22) taken at spawn; a
 * replica counts as running only while both match and the process is not a zombie.
 * Linux only (/proc).
 */
import type { ChildProcess } from "node:child_process";
import { promises as fs, constants as fsConstants } from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import { createPortAllocator, isPortFree, type PortRange } from "./ports";
import { cpuPercentBetween, type CpuSample } from "@/lib/process/proc-stat";
import { clockTicks, pageSize, readProcStat, readProcStatSync, uptimeSeconds } from "@/lib/process/procfs";
import { KeyedSerialQueue } from "@/lib/process/serial-queue";
import { spawnDetached } from "@/lib/process/spawn";
import { signalGroup, stopEscalating } from "@/lib/process/stop";
import { isSafeReplicaId, replicaEnv } from "./replica-env";
import { createStateStore, errnoOf, exitCodeOf, isRunning, STATE_FILE, type StateFile } from "./process-state";
import { createExitWatcher } from "./process-watcher";
import { resolveRunAs } from "./replica-user";
import { readableCommand } from "./file-access";
import { rotateLog, tailFileLines } from "./tail";
import { createEventHub } from "./event-hub";
import { describeExit } from "./exit-reason";
import { findSpawnedProcess } from "./find-spawned";
import { createReplicaMemoryLimits, REPLICAS_FOLDER, type MemoryEnforcement } from "./memory-cgroup";
import { cgroupPids, processCgroupDirs } from "./cgroup";
import {
  LABEL_MANAGED,
  LABEL_REPLICA,
  LABEL_SERVICE,
  LABEL_SERVICE_NAME,
  type KillSignal,
  type ReplicaCgroups,
  type ReplicaSpec,
  type ReplicaStats,
  type Runtime,
  type RuntimeReplica,
} from "./types";

export type ProcessRuntimeOptions = {
  dataDir: string;
  portRange: PortRange;
  host?: "127.0.0.1";
  /** argv used when a spec has no command, e.g. ["node", "replica/server.js"] */
  defaultCommand: string[];
  /** working directory of the replicas (relative commands resolve against it); default: the panel's */
  cwd?: string;
  /** PATH given to replicas; default: the folder of the running node, then the usual system folders */
  pathEnv?: string;
  /** the unprivileged user replicas run as when the panel is root; default switchyard-replica */
  user?: string;
  /** where files of the default command the replica user cannot read are copied; default /var/lib/switchyard/replica-app */
  publishDir?: string;
  /** grace before SIGKILL when restart() stops a replica; default 5000 ms */
  restartGraceMs?: number;
  /** how often the watcher behind onEvent looks at the pids; default 1000 ms */
  watchIntervalMs?: number;
  /** hold each replica to its memory limit with a cgroup of its own where the machine allows it (memory-cgroup.ts); default true */
  memoryCgroups?: boolean;
};

const LOG_ROTATE_BYTES = 16 * 1024 * 1024;
const memoryCgroupsOff = async (): Promise<MemoryEnforcement> => ({ enforced: false, reason: "memory cgroups are off for this runtime" });

function defaultPath(): string {
  return [path.dirname(process.execPath), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":");
}

export function createProcessRuntime(opts: ProcessRuntimeOptions) {
  const host = opts.host ?? "127.0.0.1";
  const root = path.resolve(opts.dataDir, "replicas");
  const cwd = opts.cwd ?? process.cwd();
  const pathEnv = opts.pathEnv ?? defaultPath();
  const user = opts.user ?? "switchyard-replica";
  const publishDir = opts.publishDir ?? "/var/lib/switchyard/replica-app";
  const restartGraceMs = opts.restartGraceMs ?? 5000;
  const watchIntervalMs = opts.watchIntervalMs ?? 1000;
  const ports = createPortAllocator(opts.portRange, host);
  const hub = createEventHub({ watch: () => watcher.start(), unwatch: () => watcher.stop() });
  const memoryLimits = createReplicaMemoryLimits(opts.memoryCgroups === false ? memoryCgroupsOff : undefined);

  /** children this panel spawned: their exit codes are known */
  const children = new Map<number, ChildProcess>();
  /** a replica process's own cgroup folders (null: none; looked at again after 30 s), per process (pid:startTicks) */
  const cgroupsOfProcess = new Map<string, { dirs: { version: 1 | 2; dirs: string[] } | null; at: number }>();
  /** the other processes of each replica's cgroup sampled last time (their keys in cpuSamples) */
  const othersSampled = new Map<string, Set<string>>();
  /** previous CPU sample per process (pid:startTicks) */
  const cpuSamples = new Map<string, CpuSample>();
  /** serialises create/stop/restart/remove and exit bookkeeping per replica */
  const locks = new KeyedSerialQueue();
  const withLock = <T>(replicaId: string, fn: () => Promise<T>): Promise<T> => locks.run(replicaId, fn);

  const { dirOf, readState, writeState, readAllStates, lookup, forget, reads: stateReads } = createStateStore(root);

  /**
   * An intent (pid 0, not ended) whose spawn is not in progress here: the process of a
   * killed panel, found by its environment and recorded, or ended when there is none.
   * Takes the replica's lock, so a spawn in progress in this process finishes first.
   */
  function settleIntent(s: StateFile): Promise<StateFile> {
    return withLock(s.replicaId, async () => {
      const current = await readState(s.replicaId);
      if (!current || current.pid !== 0 || current.stoppedAt) return current ?? s;
      const found = await findSpawnedProcess({ REPLICA_ID: current.replicaId, PORT: String(current.dataPort), ADMIN_PORT: String(current.adminPort) });
      const settled = found ? { ...current, pid: found.pid, procStartTicks: found.startTicks } : { ...current, stoppedAt: new Date().toISOString() };
      await writeState(settled);
      return settled;
    });
  }

  /** Every state file, intents left by a killed panel settled. Never call it holding a lock. */
  async function readSettledStates(): Promise<StateFile[]> {
    return Promise.all((await readAllStates()).map((s) => (s.pid === 0 && !s.stoppedAt ? settleIntent(s) : s)));
  }

  /**
   * A ref is a pid (as a string) or a replica id. Looked up in memory (one stat of its
   * state file says the copy is current); only a ref memory does not know scans the folder.
   */
  async function resolve(ref: string): Promise<StateFile | null> {
    const known = await lookup(ref);
    if (known) return known.pid === 0 && !known.stoppedAt ? settleIntent(known) : known;
    const states = await readSettledStates();
    return states.find((s) => String(s.pid) === ref) ?? states.find((s) => s.replicaId === ref) ?? null;
  }

  function toReplica(s: StateFile, running: boolean, logTail?: string[], oomKilled = false): RuntimeReplica {
    return {
      replicaId: s.replicaId,
      serviceId: s.serviceId,
      serviceName: s.serviceName,
      runtimeRef: s.pid === 0 ? s.replicaId : String(s.pid), // an intent that never ran has no pid
      dataAddr: { host: s.host, port: s.dataPort },
      adminAddr: { host: s.host, port: s.adminPort },
      state: running ? "running" : "exited",
      startedAt: new Date(s.startedAt),
      exitCode: running ? null : s.exitCode,
      oomKilled: !running && oomKilled,
      reason: running ? null : describeExit({ exitCode: s.exitCode, oomKilled: !running && oomKilled, memoryLimitMb: s.spec.memoryLimitMb, logTail }),
    };
  }

  /** The last stderr lines, where a crashed replica says why. */
  function stderrTail(replicaId: string): Promise<string[]> {
    return tailFileLines(path.join(dirOf(replicaId), "stderr.log"), 20);
  }

  /** the watcher behind onEvent: notices replicas whose process went away */
  const watcher = createExitWatcher({ intervalMs: watchIntervalMs, readAllStates, children, stderrTail, oomKilled: memoryLimits.oomKilled, emit: (e) => hub.emit(e) });

  /** Starts the process for `spec` on the given ports and records it. Caller holds the lock. */
  async function spawnReplica(spec: ReplicaSpec, dataPort: number, adminPort: number): Promise<StateFile> {
    const isDefault = !(spec.command && spec.command.length > 0);
    const wanted = isDefault ? opts.defaultCommand : spec.command!;
    if (wanted.length === 0) throw new AppError("bad_request", "the replica has no command and the runtime no default command");
    const runAs = await resolveRunAs(user);
    const command = runAs.switched ? await readableCommand(wanted, { cwd, who: runAs, isDefault, publishDir }) : wanted;
    const dir = dirOf(spec.replicaId);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const outPath = path.join(dir, "stdout.log");
    const errPath = path.join(dir, "stderr.log");
    await Promise.all([rotateLog(outPath, LOG_ROTATE_BYTES), rotateLog(errPath, LOG_ROTATE_BYTES)]);
    // The intent, before the process exists: a panel killed before the second write leaves
    // this record, and the next list() finds the process by its environment (settleIntent).
    const previous = await readState(spec.replicaId);
    const intent = stateFor(spec, { pid: 0, procStartTicks: -1, dataPort, adminPort, command });
    await writeState(intent);
    let child: ChildProcess;
    try {
      const proc = spawnDetached(command[0], command.slice(1), {
        logFile: outPath,
        errFile: errPath,
        cwd,
        // the replica gets only what it needs, not the panel's environment
        env: { PATH: pathEnv, ...replicaEnv(spec, { dataPort, adminPort, bindHost: host }) },
        ...(runAs.switched ? { uid: runAs.uid, gid: runAs.gid } : {}),
      });
      child = proc.child;
      await proc.spawned;
    } catch (e) {
      const code = errnoOf(e);
      const reason =
        code === "ENOENT"
          ? `command not found: ${command[0]} (working directory ${cwd})`
          : code === "EACCES"
            ? `${runAs.name} may not run ${command[0]} (working directory ${cwd}): ${(e as Error).message}`
            : (e as Error).message;
      await (previous ? writeState(previous) : fs.rm(path.join(dir, STATE_FILE), { force: true }));
      throw new AppError("runtime_error", `cannot start replica ${spec.replicaId}: ${reason}`, { command });
    }
    child.on("error", () => undefined); // errors after spawn (signals to a dead pid) are seen through /proc
    const pid = child.pid!;
    await memoryLimits.enter(spec.replicaId, pid, spec.memoryLimitMb, spec.cpuLimit);
    const stat = await readProcStat(pid);
    // If the child already ended, no start time matches and it reads as exited.
    const state: StateFile = { ...intent, pid, procStartTicks: stat?.startTicks ?? -1 };
    try {
      await writeState(state);
    } catch (e) {
      process.kill(pid, "SIGKILL");
      throw new AppError("runtime_error", `cannot record replica ${spec.replicaId} in ${dir}: ${(e as Error).message}`);
    }
    children.set(pid, child);
    child.once("exit", (code, signal) => {
      void withLock(spec.replicaId, () => recordExit(spec.replicaId, pid, exitCodeOf(code, signal)))
        .catch(() => undefined)
        .finally(() => {
          children.delete(pid);
          void watcher.tick();
        });
    });
    watcher.started(spec.replicaId, pid);
    hub.emit({ kind: "started", replicaId: spec.replicaId, serviceId: spec.serviceId });
    return state;
  }

  function stateFor(spec: ReplicaSpec, run: Pick<StateFile, "pid" | "procStartTicks" | "dataPort" | "adminPort" | "command">): StateFile {
    return {
      version: 1,
      labels: {
        [LABEL_MANAGED]: "true",
        [LABEL_SERVICE]: spec.serviceId,
        [LABEL_SERVICE_NAME]: spec.serviceName,
        [LABEL_REPLICA]: spec.replicaId,
      },
      replicaId: spec.replicaId,
      serviceId: spec.serviceId,
      serviceName: spec.serviceName,
      ...run,
      host,
      startedAt: new Date().toISOString(),
      spec,
      exitCode: null,
      stoppedAt: null,
    };
  }

  async function recordExit(replicaId: string, pid: number, exitCode: number | null): Promise<void> {
    const s = await readState(replicaId);
    if (!s || s.pid !== pid || s.stoppedAt) return;
    await writeState({ ...s, exitCode, stoppedAt: new Date().toISOString() });
  }

  /** SIGTERM, then SIGKILL after graceMs. Caller holds the lock. */
  async function stopLocked(s: StateFile, graceMs: number): Promise<void> {
    if (!(await isRunning(s))) return;
    // detached: the replica leads its own process group. /proc, not the signal's result, says whether it is gone.
    const signal = (sig: NodeJS.Signals) => (signalGroup(s.pid, sig), true);
    const gone = await stopEscalating({ signal, isRunning: () => isRunning(s) }, [["SIGTERM", Math.max(0, graceMs)], ["SIGKILL", 5000]], 25);
    if (!gone) throw new AppError("runtime_error", `replica ${s.replicaId} (pid ${s.pid}) did not end after SIGKILL`);
    // Our own child: wait for its exit status so the state file says how it ended.
    const child = children.get(s.pid);
    let exitCode: number | null = null;
    if (child) {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          child.once("exit", () => {
            clearTimeout(t);
            r();
          });
        });
      }
      exitCode = exitCodeOf(child.exitCode, child.signalCode);
    }
    await recordExit(s.replicaId, s.pid, exitCode);
    await memoryLimits.release(s.replicaId, `${s.pid}:${s.procStartTicks}`);
  }

  /** The replica's own cgroup folders (memory first), or null when it runs in none of its own. */
  async function ownCgroups(s: StateFile, knownRunning = false): Promise<{ version: 1 | 2; dirs: string[] } | null> {
    if (!knownRunning && !(await isRunning(s))) return null;
    // a process stays in the cgroups it was put in at spawn: read them once per process (stats() asks every tick)
    const key = `${s.pid}:${s.procStartTicks}`;
    const known = cgroupsOfProcess.get(key);
    if (known && (known.dirs !== null || Date.now() - known.at < 30_000)) return known.dirs;
    const found = await processCgroupDirs(s.pid);
    const own = found?.dirs.filter((d) => d.endsWith(`/${REPLICAS_FOLDER}/${s.replicaId}`)) ?? [];
    const dirs = found && own.length > 0 ? { version: found.version, dirs: own } : null;
    cgroupsOfProcess.set(key, { dirs, at: Date.now() });
    return dirs;
  }

  /**
   * What the replica's other processes use: those a fault's stressor put in its own cgroup
   * (memory-cgroup.ts), so what they take shows in the replica's figures, as Docker's do.
   */
  async function othersInCgroup(s: StateFile, ticks: number, pageBytes: number, uptime: CpuSample): Promise<{ rss: number; cpuPercent: number }> {
    const cg = await ownCgroups(s, true); // stats() has just read its /proc/<pid>/stat
    const pids = cg ? (await cgroupPids(cg.dirs[0])).filter((p) => p !== s.pid) : [];
    let rss = 0;
    let cpuPercent = 0;
    const seen = new Set<string>();
    for (const pid of pids) {
      const stat = readProcStatSync(pid);
      if (!stat || stat.state === "Z") continue;
      rss += stat.rssPages * pageBytes;
      const key = `${pid}:${stat.startTicks}`;
      seen.add(key);
      const now: CpuSample = { cpu: stat.cpuTicks, atMs: uptime.atMs };
      const prev = cpuSamples.get(key) ?? { cpu: 0, atMs: (stat.startTicks / ticks) * 1000 };
      cpuSamples.set(key, now);
      cpuPercent += cpuPercentBetween(prev, now, ticks);
    }
    // forget the samples of this replica's helpers that are gone (a stressor that ended)
    for (const key of othersSampled.get(s.replicaId) ?? []) if (!seen.has(key)) cpuSamples.delete(key);
    othersSampled.set(s.replicaId, seen);
    return { rss, cpuPercent };
  }

  /** Polls the process's state (/proc/<pid>/stat) until `wanted`, at most 2 s; false when it never was. */
  async function untilState(pid: number, wanted: (state: string) => boolean): Promise<boolean> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const st = await readProcStat(pid);
      if (st && wanted(st.state)) return true;
      if (!st || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const runtime = {
    kind: "process" as const,

    async available() {
      try {
        await fs.access("/proc/self/stat");
      } catch {
        return { ok: false as const, reason: "the process runtime needs Linux /proc (not found)" };
      }
      try {
        await fs.mkdir(root, { recursive: true, mode: 0o700 });
        await fs.access(root, fsConstants.W_OK);
      } catch (e) {
        return { ok: false as const, reason: `cannot write replica state under ${root}: ${(e as Error).message}` };
      }
      return { ok: true as const };
    },

    async list() {
      const states = await readSettledStates();
      return Promise.all(states.map(async (s) => toReplica(s, await isRunning(s))));
    },

    async create(spec: ReplicaSpec) {
      if (!isSafeReplicaId(spec.replicaId)) {
        throw new AppError("bad_request", `replica id ${JSON.stringify(spec.replicaId)} is not usable as a folder name`);
      }
      return withLock(spec.replicaId, async () => {
        const existing = await readState(spec.replicaId);
        if (existing && (await isRunning(existing))) {
          throw new AppError("conflict", `replica ${spec.replicaId} already runs as pid ${existing.pid}`);
        }
        const used = (await readAllStates()).filter((s) => s.replicaId !== spec.replicaId).flatMap((s) => [s.dataPort, s.adminPort]);
        const [dataPort, adminPort] = await ports.allocate(used, 2);
        try {
          return toReplica(await spawnReplica(spec, dataPort, adminPort), true);
        } finally {
          ports.release([dataPort, adminPort]);
        }
      });
    },

    async stop(ref: string, graceMs: number) {
      const s = await resolve(ref);
      if (!s) return;
      await withLock(s.replicaId, async () => {
        const current = await readState(s.replicaId);
        if (current && current.pid === s.pid) await stopLocked(current, graceMs);
      });
    },

    /** Ends the process at once if it still runs (SIGKILL), then deletes its folder, logs included. */
    async remove(ref: string) {
      const s = await resolve(ref);
      if (!s) return;
      await withLock(s.replicaId, async () => {
        const current = await readState(s.replicaId);
        if (current) {
          await stopLocked(current, 0);
          cpuSamples.delete(`${current.pid}:${current.procStartTicks}`);
          cgroupsOfProcess.delete(`${current.pid}:${current.procStartTicks}`);
          await memoryLimits.release(current.replicaId); // one that died by itself (OOM) kept its cgroup until now
        }
        await fs.rm(dirOf(s.replicaId), { recursive: true, force: true });
        forget(s.replicaId);
      });
    },

    /** Stops (restartGraceMs grace) and starts the same spec again, on the same ports when they are still free. */
    async restart(ref: string) {
      const s = await resolve(ref);
      if (!s) throw new AppError("not_found", `no replica ${ref} in the process runtime`);
      return withLock(s.replicaId, async () => {
        const current = (await readState(s.replicaId)) ?? s;
        await stopLocked(current, restartGraceMs);
        let dataPort = current.dataPort;
        let adminPort = current.adminPort;
        let reserved: number[] = [];
        if (!(await isPortFree(dataPort, host)) || !(await isPortFree(adminPort, host))) {
          const used = (await readAllStates()).filter((x) => x.replicaId !== s.replicaId).flatMap((x) => [x.dataPort, x.adminPort]);
          reserved = await ports.allocate([...used, dataPort, adminPort], 2);
          [dataPort, adminPort] = reserved;
        }
        try {
          return toReplica(await spawnReplica(current.spec, dataPort, adminPort), true);
        } finally {
          ports.release(reserved);
        }
      });
    },

    async inspect(ref: string) {
      const s = await resolve(ref);
      if (!s) return null;
      const running = await isRunning(s);
      if (running) return toReplica(s, true);
      return toReplica(s, false, await stderrTail(s.replicaId), await memoryLimits.oomKilled(s.replicaId));
    },

    /**
     * RSS from /proc/<pid>/stat (the count /proc/<pid>/status shows as VmRSS, what /health
     * judges; in a cgroup it can read above the limit: the node binary's shared pages are
     * not charged to it); CPU since the last call. One read of /proc per process: the
     * collector asks for every replica every second.
     */
    async stats(ref: string): Promise<ReplicaStats | null> {
      const s = await resolve(ref);
      if (!s) return null;
      const key = `${s.pid}:${s.procStartTicks}`;
      const [ticks, pageBytes, uptime] = await Promise.all([clockTicks(), pageSize(), uptimeSeconds()]);
      const stat = readProcStatSync(s.pid);
      // a zombie or a kernel thread has no memory of its own (status shows no VmRSS line for it)
      const rss = stat && stat.state !== "Z" ? stat.rssPages * pageBytes : null;
      if (!stat || stat.startTicks !== s.procStartTicks || stat.state === "Z" || rss === null || uptime === null) {
        cpuSamples.delete(key);
        return null;
      }
      // Both samples on the boot clock, so the first call measures from the process start.
      const now: CpuSample = { cpu: stat.cpuTicks, atMs: uptime * 1000 };
      const prev = cpuSamples.get(key) ?? { cpu: 0, atMs: (stat.startTicks / ticks) * 1000 };
      cpuSamples.set(key, now);
      const memoryLimitBytes = s.spec.memoryLimitMb > 0 ? s.spec.memoryLimitMb * 1024 * 1024 : null;
      const others = await othersInCgroup(s, ticks, pageBytes, now);
      return {
        memoryBytes: rss + others.rss,
        memoryLimitBytes,
        memoryLimitEnforced: await memoryLimits.isEnforced(key, s.pid, s.replicaId, memoryLimitBytes),
        cpuPercent: cpuPercentBetween(prev, now, ticks) + others.cpuPercent,
        at: Date.now(),
      };
    },

    /** The last `lines` lines of stdout.log, then of stderr.log (prefixed "stderr: "), at most `lines` in all, stderr last. */
    async logs(ref: string, lines: number) {
      const s = await resolve(ref);
      if (!s || lines <= 0) return [];
      const dir = dirOf(s.replicaId);
      const [out, err] = await Promise.all([
        tailFileLines(path.join(dir, "stdout.log"), lines),
        tailFileLines(path.join(dir, "stderr.log"), lines),
      ]);
      return [...out, ...err.map((l) => `stderr: ${l}`)].slice(-lines);
    },

    /**
     * "started" on create/restart; "died" when a process seen running is gone (checked
     * every watchIntervalMs while someone listens, at once for our own children), also
     * after stop(), like Docker's die event.
     */
    onEvent: hub.on,

    /** SIGSTOP to the replica's process group (it leads one: detached). */
    async pause(ref: string) {
      const s = await resolve(ref);
      if (!s || !(await isRunning(s))) throw new AppError("conflict", `replica ${ref} is not running`);
      signalGroup(s.pid, "SIGSTOP");
      // the signal is delivered when the kernel next schedules it: answer once it is stopped
      if (!(await untilState(s.pid, (st) => st === "T"))) throw new AppError("runtime_error", `replica ${s.replicaId} (pid ${s.pid}) did not stop on SIGSTOP`);
    },

    async unpause(ref: string) {
      const s = await resolve(ref);
      if (!s || !(await isRunning(s))) return;
      signalGroup(s.pid, "SIGCONT");
      await untilState(s.pid, (st) => st !== "T");
    },

    async isPaused(ref: string) {
      const s = await resolve(ref);
      if (!s || !(await isRunning(s))) return false;
      return (await readProcStat(s.pid))?.state === "T";
    },

    /** The signal to the replica's process group; the watcher then sees it end, as any death. */
    async signal(ref: string, sig: KillSignal) {
      const s = await resolve(ref);
      if (!s || !(await isRunning(s))) throw new AppError("conflict", `replica ${ref} is not running`);
      signalGroup(s.pid, sig);
    },

    /** The replica's own cgroups (memory, and CPU where there is a cpu controller), or why it has none. */
    async cgroupsOf(ref: string): Promise<ReplicaCgroups> {
      const s = await resolve(ref);
      if (!s || !(await isRunning(s))) return { ok: false, reason: `replica ${ref} is not running` };
      const cg = await ownCgroups(s);
      if (cg) return { ok: true, ...cg };
      const e = await memoryLimits.enforcement();
      return { ok: false, reason: e.enforced ? `replica ${s.replicaId} runs outside a cgroup of its own (started by a panel that could not make one)` : e.reason };
    },
  } satisfies Runtime;

  return {
    ...runtime,
    /** Whether this runtime holds replicas to their memory limit here (a cgroup each), and where, or why not. */
    memoryLimitEnforcement: (): Promise<MemoryEnforcement> => memoryLimits.enforcement(),
    /** State files read and parsed since this runtime was made (diagnostics, tests, bench/panel-cost.ts). */
    stateReads: (): number => stateReads(),
    /** How many times the watcher behind onEvent has looked at every replica since it started (diagnostics, tests). */
    watchLooks: (): number => watcher.looks(),
  };
}

export type ProcessRuntime = ReturnType<typeof createProcessRuntime>;
