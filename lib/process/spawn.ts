/** Spawning a detached process that outlives the panel, and waiting until it is ready. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { sleep } from "@/lib/process/sleep";

export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

export type DetachedProcess = {
  child: ChildProcess;
  /** how it ended, once it has; null while it runs */
  exit(): ProcessExit | null;
  /** resolves once it has ended (or could not be started) */
  ended: Promise<ProcessExit>;
  /** resolves once the program runs; rejects with the spawn's error (ENOENT, EACCES) */
  spawned: Promise<void>;
};

export type DetachedOptions = {
  /** stdout, and stderr unless errFile is given, appended */
  logFile: string;
  /** stderr appended to its own file */
  errFile?: string;
  logMode?: number;
  cwd?: string;
  /** exactly this environment; default: the panel's own */
  env?: Record<string, string>;
  /** run as this user and group (the panel must be root) */
  uid?: number;
  gid?: number;
};

/**
 * Start `command` detached (its own session, so it keeps running when the panel stops),
 * stdout and stderr appended to `logFile` (stderr to `errFile` when given), unreferenced:
 * the panel does not wait for it.
 */
export function spawnDetached(command: string, args: readonly string[], opts: DetachedOptions): DetachedProcess {
  const out = openSync(opts.logFile, "a", opts.logMode ?? 0o666);
  let err = out;
  let child: ChildProcess;
  try {
    if (opts.errFile) err = openSync(opts.errFile, "a", opts.logMode ?? 0o666);
    child = spawn(command, args, {
      cwd: opts.cwd,
      // cast: Next.js types make NODE_ENV required
      ...(opts.env ? { env: opts.env as unknown as NodeJS.ProcessEnv } : {}),
      detached: true,
      stdio: ["ignore", out, err],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
  } finally {
    closeSync(out);
    if (err !== out) closeSync(err);
  }
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  spawned.catch(() => undefined); // a caller that does not wait for it learns of the failure through exit()
  let ended: ProcessExit | null = null;
  const done = new Promise<ProcessExit>((resolve) => {
    child.once("error", (error) => resolve((ended ??= { error })));
    child.once("exit", (code, signal) => resolve((ended ??= { code, signal })));
  });
  child.unref();
  return { child, exit: () => ended, ended: done, spawned };
}

export type WaitReadyOptions = {
  timeoutMs: number;
  intervalMs: number;
  /** looked at before each try: an error to give up with (the process exited), or null to go on */
  failed?: () => Promise<Error | null>;
  /** the error to give up with once `timeoutMs` has passed (kill what was started here) */
  timedOut: () => Promise<Error>;
};

/** Try `ready` every `intervalMs` until it answers something other than null/false, or give up. */
export async function waitUntilReady<T>(ready: () => Promise<T | null | false>, opts: WaitReadyOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const failure = await opts.failed?.();
    if (failure) throw failure;
    const value = await ready();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw await opts.timedOut();
    await sleep(opts.intervalMs);
  }
}

export type SpawnReadyOptions<T> = DetachedOptions & {
  /** answers something other than null/false once the process serves */
  ready: (proc: DetachedProcess) => Promise<T | null | false>;
  timeoutMs: number;
  intervalMs: number;
  /** the error for a process that ended before it was ready */
  exited: (exit: ProcessExit) => Promise<Error>;
  /** the error once `timeoutMs` has passed; the process has been sent `killSignal` */
  timedOut: () => Promise<Error>;
  /** how a process that did not get ready in time is ended; default SIGTERM */
  killSignal?: NodeJS.Signals;
};

/**
 * Spawn detached, then wait until `ready` says it serves. A process that exits first
 * fails the wait with `exited`; one that takes longer than `timeoutMs` is killed, so no
 * half-started process is left behind.
 */
export async function spawnUntilReady<T>(command: string, args: readonly string[], opts: SpawnReadyOptions<T>): Promise<{ process: DetachedProcess; ready: T }> {
  const proc = spawnDetached(command, args, opts);
  const ready = await waitUntilReady(() => opts.ready(proc), {
    timeoutMs: opts.timeoutMs,
    intervalMs: opts.intervalMs,
    failed: async () => {
      const exit = proc.exit();
      return exit === null ? null : opts.exited(exit);
    },
    timedOut: async () => {
      if (proc.child.pid) {
        try {
          process.kill(proc.child.pid, opts.killSignal ?? "SIGTERM");
        } catch {
          // gone meanwhile
        }
      }
      return opts.timedOut();
    },
  });
  return { process: proc, ready };
}

/**
 * Run `command` detached with its output appended to `logFile`, and resolve once it has
 * exited. For a program that daemonizes (nginx): what it forks outlives the panel and
 * holds no pipe of ours, so the wait ends when the foreground process does.
 */
export function runToLog(command: string, args: readonly string[], opts: DetachedOptions): Promise<ProcessExit> {
  const proc = spawnDetached(command, args, opts);
  // Referenced while we wait: spawnDetached unrefs its child, and with the output going
  // to a file nothing else may keep the event loop alive (a panel starting nginx before
  // it listens would exit 0 in the middle of the await).
  proc.child.ref();
  return proc.ended;
}
