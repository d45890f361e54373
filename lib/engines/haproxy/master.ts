/**
 * The HAProxy master process: find it (pid file + command line + master socket), spawn
 * it detached and wait until its worker answers, stop it, read what it logged.
 */
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import { readOrNull } from "@/lib/engines/files";
import { once } from "@/lib/engines/lifecycle/file-engine";
import type { HaproxyPaths } from "@/lib/engines/haproxy/options";
import type { HaproxyMasterApi, HaproxyRuntimeApi } from "@/lib/engines/haproxy/runtime-api";
import { exec } from "@/lib/process/exec";
import { livePidFromFile } from "@/lib/process/identity";
import { readPidFile } from "@/lib/process/pid-file";
import { readCmdlineSync } from "@/lib/process/procfs";
import { spawnUntilReady } from "@/lib/process/spawn";

/** SIGUSR1: soft stop (workers finish their connections); then harder. */
export const HAPROXY_STOP_STEPS = [["SIGUSR1", 5000], ["SIGTERM", 3000], ["SIGKILL", 3000]] as const;

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Is `pid` a haproxy started with our config file? (A recycled pid must never be signalled.) */
function isOurHaproxy(pid: number, configPath: string): boolean {
  const cmdline = readCmdlineSync(pid);
  if (cmdline === null) return true; // no /proc: trust the pid file plus the master socket
  const argv = cmdline.split("\0");
  return path.basename(argv[0]).includes("haproxy") && argv.includes(configPath);
}

export class HaproxyMaster {
  readonly version: () => Promise<string | null>;

  constructor(
    private readonly paths: HaproxyPaths,
    private readonly binary: string,
    private readonly mode: "supervised" | "external",
    private readonly master: HaproxyMasterApi,
    private readonly runtime: HaproxyRuntimeApi,
  ) {
    this.version = once(async () => {
      try {
        const { stdout } = await exec([this.binary, "-v"], { timeoutMs: 5000 });
        return /version (\S+)/i.exec(stdout)?.[1] ?? null;
      } catch {
        return null;
      }
    });
  }

  /** The pid file's pid when it names a live haproxy of ours (supervised), whatever its sockets say. */
  async ownPid(): Promise<number | null> {
    return livePidFromFile(this.paths.pidFile, (pid) => isOurHaproxy(pid, this.paths.config));
  }

  /** The running master's pid: supervised, the pid file's haproxy when its master socket answers with that pid; external, whoever answers there. */
  async runningPid(): Promise<number | null> {
    if (this.mode === "external") {
      try {
        return (await this.master.showProc()).master.pid;
      } catch {
        return null;
      }
    }
    const pid = await this.ownPid();
    if (pid === null) return null;
    try {
      const proc = await this.master.showProc();
      return proc.master.pid === pid ? pid : null;
    } catch {
      return null;
    }
  }

  /** Spawn a new detached master on the live file; resolves with its pid once its worker answers. */
  async spawn(startTimeoutMs: number): Promise<number | null> {
    await rm(this.paths.pidFile, { force: true });
    const logStart = await this.logSize();
    const args = ["-W", "-S", `${this.paths.masterSocket},mode,600`, "-f", this.paths.config, "-p", this.paths.pidFile];
    await spawnUntilReady(this.binary, args, {
      logFile: this.paths.logFile,
      timeoutMs: startTimeoutMs,
      intervalMs: 50,
      ready: async () => {
        if ((await readPidFile(this.paths.pidFile)) === null) return false;
        try {
          const proc = await this.master.showProc();
          const info = await this.runtime.showInfo();
          return proc.workers.some((w) => String(w.pid) === info.Pid);
        } catch {
          return false; // not up yet
        }
      },
      exited: async (exit) => {
        const exited = "error" in exit ? `cannot run ${this.binary}: ${exit.error.message}` : `haproxy exited (code ${exit.code}, signal ${exit.signal})`;
        return new AppError("engine_error", `${exited}: ${await this.logSince(logStart)}`);
      },
      timedOut: async () => new AppError("engine_error", `haproxy did not answer within ${startTimeoutMs} ms: ${await this.logSince(logStart)}`),
    });
    return readPidFile(this.paths.pidFile);
  }

  logSize(): Promise<number> {
    return stat(this.paths.logFile).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** [ALERT]/[WARNING] lines the master wrote since `offset` (supervised mode only). */
  async logSince(offset: number): Promise<string> {
    const text = (await readOrNull(this.paths.logFile)) ?? "";
    const lines = text.slice(offset).split("\n");
    const alerts = lines.filter((l) => l.includes("[ALERT]"));
    const warnings = lines.filter((l) => l.includes("[WARNING]") && !/Can't open (global )?server state file|(Paused|Resumed) (frontend|proxy)/.test(l));
    return (alerts.length > 0 ? alerts : warnings).join("\n") || "(no error in the haproxy log)";
  }
}
