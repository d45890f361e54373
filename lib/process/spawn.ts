/** Spawning a detached process that outlives the panel, and waiting until it is ready. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { sleep } from "@/lib/process/sleep";

export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null } | { error: Error };

export type DetachedProcess = {
  child: ChildProcess;
  /** how it ended, once it has; null while it runs */
  exit(): ProcessExit | null;
};

/**
 * Start `command` detached (its own session, so it keeps running when the panel stops),
 * stdout and stderr appended to `logFile`, unreferenced: the panel does not wait for it.
 */
export function spawnDetached(command: string, args: readonly string[], opts: { logFile: string; logMode?: number; cwd?: string }): DetachedProcess {
  const fd = openSync(opts.logFile, "a", opts.logMode ?? 0o666);
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: opts.cwd, detached: true, stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  let ended: ProcessExit | null = null;
  child.once("error", (error) => (ended = { error }));
  child.once("exit", (code, signal) => (ended ??= { code, signal }));
  child.unref();
  return { child, exit: () => ended };
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
