/**
 * nginx commands and process facts: check, signal, run an operator's command, find
 * the master and its workers, and ask the listener whether it answers (master.ts
 * starts nginx through lib/process/spawn). Commands run with argv
 * arrays only. Everything here is I/O; the engine (index.ts) sequences it.
 */
import { readFile } from "node:fs/promises";
import net from "node:net";
import type { CheckResult, EngineFailure } from "@/lib/engines/types";
import { isAlive } from "@/lib/process/identity";
import { exec, isExecError } from "@/lib/process/exec";
import { childPids, holdsFile, listPidsSync, readCmdlineSync, readProcParentSync } from "@/lib/process/procfs";
import { readOrNull, writeAtomic as writeAtomicPrivate } from "@/lib/engines/files";
import type { FileId } from "@/lib/engines/nginx/log-tail";

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export type NginxInvocation = { binary: string; prefix: string };

/** nginx's own lines, without the noise ("nginx: [emerg] unknown directive ..." stays), else the failure's message. */
function nginxOutput(e: unknown): string {
  return (isExecError(e) ? e.output : "") || (e instanceof Error ? e.message : String(e));
}

/**
 * `nginx -t -q -c FILE -p PREFIX -e stderr`: the engine's own validation. `-e`
 * keeps nginx from opening its compiled-in error log before it reads the file.
 */
export async function nginxTest(inv: NginxInvocation, configFile: string): Promise<CheckResult> {
  try {
    await exec([inv.binary, "-t", "-q", "-c", configFile, "-p", `${inv.prefix}/`, "-e", "stderr"], { timeoutMs: 20_000 });
    return { ok: true };
  } catch (e) {
    if (!isExecError(e)) return { ok: false, error: nginxOutput(e) };
    if (e.errno === "ENOENT") return { ok: false, error: `cannot run ${inv.binary}: not found (install nginx, e.g. apt-get install nginx)`, cause: e };
    return { ok: false, error: nginxOutput(e), cause: e };
  }
}

/** `nginx -s SIGNAL -c FILE -p PREFIX`: nginx reads the pid file the config names and signals the master. */
export async function nginxSignal(inv: NginxInvocation, configFile: string, signal: "reload" | "quit" | "stop" | "reopen"): Promise<{ ok: true } | ({ ok: false } & EngineFailure)> {
  try {
    await exec([inv.binary, "-s", signal, "-c", configFile, "-p", `${inv.prefix}/`, "-e", "stderr"], { timeoutMs: 20_000 });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: nginxOutput(e), ...(isExecError(e) ? { cause: e } : {}) };
  }
}

/** Run an operator-given command (external mode reload), argv only. */
export async function runCommand(argv: readonly string[]): Promise<{ ok: true } | ({ ok: false } & EngineFailure)> {
  if (argv.length === 0) return { ok: false, error: "empty command" };
  try {
    await exec(argv, { timeoutMs: 30_000 });
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `${argv.join(" ")}: ${nginxOutput(e)}`, ...(isExecError(e) ? { cause: e } : {}) };
  }
}

export async function nginxVersion(binary: string): Promise<string | null> {
  try {
    const { stdout, stderr } = await exec([binary, "-v"], { timeoutMs: 5000 });
    return /nginx\/(\S+)/.exec(`${stderr}${stdout}`)?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await readFile(file)).length;
  } catch {
    return 0;
  }
}

/** The text a file gained after `offset`. */
export async function readFrom(file: string, offset: number): Promise<string> {
  try {
    return (await readFile(file)).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}


/** An nginx master process (its title is "nginx: master process ..."). */
export function isNginxMaster(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const title = readCmdlineSync(pid);
  return title === null ? true : title.startsWith("nginx: master process"); // no /proc: trust the pid file
}

/** Pids of the master's worker processes, old (shutting down) ones included. */
export function workerPids(masterPid: number): number[] {
  return childPids(masterPid);
}

/**
 * nginx workers whose master is gone (kill -9 of the master leaves them serving, with
 * ppid 1, holding the listener) and that hold one of `files` open: this prefix's logs,
 * so the workers of another nginx are never touched.
 */
export async function orphanedWorkerPids(files: readonly FileId[]): Promise<number[]> {
  const out: number[] = [];
  for (const pid of listPidsSync()) {
    const st = readProcParentSync(pid);
    if (!st || st.ppid !== 1 || st.state === "Z") continue;
    if (!(readCmdlineSync(pid) ?? "").startsWith("nginx: worker process")) continue;
    for (const file of files) {
      if (await holdsFile([pid], file)) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Workers that are not shutting down (title "nginx: worker process", not "... is shutting down"). */
export function activeWorkerPids(masterPid: number): number[] {
  return workerPids(masterPid).filter((pid) => {
    const title = readCmdlineSync(pid) ?? "";
    return title.startsWith("nginx: worker process") && !title.includes("shutting down");
  });
}

/**
 * Does the listener answer HTTP? Sends a request nginx rejects itself (400,
 * no upstream involved, so no replica sees it and the counters stay exact).
 */
export function listenerAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host;
  return new Promise((resolve) => {
    const socket = net.connect({ host: target, port });
    let data = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write("SWITCHYARD-VERIFY\r\n\r\n"));
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.startsWith("HTTP/")) done(true);
    });
    socket.on("error", () => done(false));
    socket.on("end", () => done(data.startsWith("HTTP/")));
  });
}

/** nginx's files must stay readable by its workers when they run as another user. */
export function writeAtomic(file: string, text: string): Promise<void> {
  return writeAtomicPrivate(file, text, 0o644);
}

export { readOrNull };
