/**
 * The nginx master process: find it (pid file + process title), start it (it
 * daemonizes) and wait until its workers serve, end workers a killed master left
 * behind, stop it, and signal it to reopen its logs.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import { once } from "@/lib/engines/lifecycle/file-engine";
import type { FileId, ReopenResult } from "@/lib/engines/nginx/log-tail";
import type { NginxEngineOptions, NginxEnginePaths } from "@/lib/engines/nginx/options";
import { activeWorkerPids, errorText, fileSize, isNginxMaster, listenerAnswers, nginxVersion, orphanedWorkerPids, readFrom, runCommand, workerPids } from "@/lib/engines/nginx/apply";
import { livePidFromFileSync } from "@/lib/process/identity";
import { holdsFile } from "@/lib/process/procfs";
import { runToLog, waitUntilReady } from "@/lib/process/spawn";
import { stopWithEscalation } from "@/lib/process/stop";

/** SIGQUIT: graceful (workers finish their requests); then harder. */
export const NGINX_STOP_STEPS = [["SIGQUIT", 8000], ["SIGTERM", 3000], ["SIGKILL", 3000]] as const;

export class NginxMaster {
  readonly version: () => Promise<string | null>;

  constructor(
    private readonly opts: NginxEngineOptions,
    private readonly paths: NginxEnginePaths,
    private readonly binary: string,
    private readonly timeoutMs: number,
  ) {
    this.version = once(() => nginxVersion(this.binary));
  }

  /** The master's pid when the pid file names a live nginx master (supervised mode; external mode cannot see it: null). */
  runningPid(): number | null {
    if (this.opts.mode === "external") return null;
    return livePidFromFileSync(this.paths.pid, isNginxMaster);
  }

  async ensureFolders(): Promise<void> {
    for (const d of [this.paths.prefix, path.dirname(this.paths.errorLog), path.dirname(this.paths.clientBodyTemp)]) {
      await mkdir(d, { recursive: true, mode: 0o755 });
    }
  }

  /** Start a master on the live file (it daemonizes); resolves with its pid once its workers run and `listen` answers. */
  async spawn(listen: { host: string; port: number }): Promise<number> {
    await rm(this.paths.pid, { force: true });
    await this.endOrphanedWorkers();
    const logStart = await fileSize(this.paths.startupLog);
    const exit = await runToLog(this.binary, ["-c", this.paths.config, "-p", `${this.paths.prefix}/`, "-e", this.paths.errorLog], { logFile: this.paths.startupLog });
    if ("error" in exit) throw new AppError("unavailable", `cannot run ${this.binary}: ${errorText(exit.error)}`);
    if (exit.code !== 0) {
      const output = await readFrom(this.paths.startupLog, logStart);
      throw new AppError("engine_error", `nginx did not start (exit ${exit.code}): ${output.trim() || "no output"}`);
    }
    return waitUntilReady(
      async () => {
        const pid = this.runningPid();
        return pid !== null && activeWorkerPids(pid).length > 0 && (await listenerAnswers(listen.host, listen.port, 1000)) ? pid : null;
      },
      {
        timeoutMs: this.timeoutMs,
        intervalMs: 50,
        timedOut: async () => new AppError("engine_error", `nginx did not answer on ${listen.host}:${listen.port} within ${this.timeoutMs} ms: ${(await this.errorsSince(0)) || "nothing in the error log"}`),
      },
    );
  }

  /**
   * A master killed with SIGKILL leaves its workers serving and holding the listener, so a
   * new master could not bind it. They are asked to finish (SIGQUIT: each closes the
   * listener at once and ends its requests in flight) and killed if they have not after 2 s.
   */
  private async endOrphanedWorkers(): Promise<void> {
    const files: FileId[] = [];
    for (const file of [this.paths.errorLog, this.paths.accessLog]) {
      const st = await stat(file).catch(() => null);
      if (st) files.push({ dev: st.dev, ino: st.ino });
    }
    const pids = await orphanedWorkerPids(files);
    await Promise.all(pids.map((pid) => stopWithEscalation(pid, [["SIGQUIT", 2000], ["SIGKILL", 1000]])));
  }

  /** [emerg] lines nginx wrote to its error log after `offset`, without the timestamp prefix. */
  async errorsSince(offset: number): Promise<string> {
    const text = await readFrom(this.paths.errorLog, offset);
    return text
      .split("\n")
      .filter((l) => l.includes("[emerg]"))
      .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, ""))
      .join("\n");
  }

  /** After the access log was renamed: nginx opens it by its name again (USR1 to the master; external mode: its reopen command). */
  async reopenLogs(): Promise<ReopenResult> {
    if (this.opts.mode === "external") {
      return runCommand(this.opts.reopenCommand ?? [this.binary, "-s", "reopen", "-c", this.paths.config, "-p", `${this.paths.prefix}/`]);
    }
    const pid = this.runningPid();
    if (pid === null) return { ok: false, error: "the nginx master is not running" };
    try {
      process.kill(pid, "SIGUSR1");
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `signalling the nginx master (pid ${pid}): ${errorText(e)}` };
    }
  }

  /** Does an nginx process still hold this (rotated-away) file open? External mode cannot see them: null. */
  async holds(file: FileId): Promise<boolean | null> {
    const master = this.runningPid();
    if (master === null) return null;
    return holdsFile([master, ...workerPids(master)], file);
  }
}
