/**
 * Reloading nginx and confirming it took: supervised, `nginx -s reload` and a new
 * generation of workers with the old one shutting down, no [emerg] in the error log,
 * the listener answering; external, the operator's reload command and the listener.
 */
import type { ReloadResult } from "@/lib/engines/lifecycle/apply";
import type { NginxMaster } from "@/lib/engines/nginx/master";
import type { NginxEngineOptions, NginxEnginePaths } from "@/lib/engines/nginx/options";
import { activeWorkerPids, fileSize, listenerAnswers, nginxSignal, runCommand, workerPids } from "@/lib/engines/nginx/apply";
import { isAlive } from "@/lib/process/identity";
import { sleep } from "@/lib/process/sleep";

export class NginxReloader {
  /** reloads asked of nginx (applies, batches, rollbacks), for diagnostics and tests */
  count = 0;

  constructor(
    private readonly opts: NginxEngineOptions,
    private readonly paths: NginxEnginePaths,
    private readonly binary: string,
    private readonly master: NginxMaster,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Reload and wait until it took: the master is alive, a worker that was not
   * there before runs (nginx starts new workers only when it loaded the file)
   * and every old one is shutting down (no longer accepting), no [emerg] line
   * appeared in the error log, and the listener answers.
   */
  async reloadAndVerify(listen: { host: string; port: number }): Promise<ReloadResult> {
    const deadline = Date.now() + this.timeoutMs;
    if (this.opts.mode === "external") {
      const argv = this.opts.reloadCommand ?? [this.binary, "-s", "reload", "-c", this.paths.config, "-p", `${this.paths.prefix}/`];
      const r = await runCommand(argv);
      this.count++;
      if (!r.ok) return r;
      while (Date.now() < deadline) {
        await sleep(100);
        if (await listenerAnswers(listen.host, listen.port, 1000)) return { ok: true };
      }
      return { ok: false, error: `nginx did not answer on ${listen.host}:${listen.port} within ${this.timeoutMs} ms after the reload` };
    }

    const master = this.master.runningPid();
    if (master === null) return { ok: false, error: "the nginx master is not running" };
    const before = new Set(workerPids(master));
    const logStart = await fileSize(this.paths.errorLog);
    const signalled = await nginxSignal({ binary: this.binary, prefix: this.paths.prefix }, this.paths.config, "reload");
    this.count++;
    if (!signalled.ok) return { ...signalled, error: `nginx -s reload: ${signalled.error}` };

    while (Date.now() < deadline) {
      await sleep(50);
      if (!isAlive(master)) return { ok: false, error: `the nginx master exited during the reload: ${await this.master.errorsSince(logStart)}` };
      const emerg = await this.master.errorsSince(logStart);
      if (emerg) {
        // nginx retries a failed bind() 5 times, 500 ms apart, logging each: let the
        // failed attempt finish before anything else (a rollback) signals the master.
        await this.errorLogQuiet(700, 5000);
        return { ok: false, error: `nginx could not load the new configuration: ${emerg}` };
      }
      const active = activeWorkerPids(master);
      // The master starts the new workers, then (100 ms later) tells the old ones to
      // stop accepting: until then both generations take new connections.
      if (active.some((p) => !before.has(p)) && !active.some((p) => before.has(p))) {
        while (Date.now() < deadline) {
          if (await listenerAnswers(listen.host, listen.port, 1000)) return { ok: true };
          await sleep(50);
        }
        return { ok: false, error: `nginx reloaded but does not answer on ${listen.host}:${listen.port}` };
      }
    }
    return { ok: false, error: `nginx reload not confirmed within ${this.timeoutMs} ms (no new worker started): ${(await this.master.errorsSince(logStart)) || "nothing in the error log"}` };
  }

  /** Wait until the error log has not grown for `quietMs` (at most `maxMs`). */
  private async errorLogQuiet(quietMs: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    let size = await fileSize(this.paths.errorLog);
    let since = Date.now();
    while (Date.now() < end && Date.now() - since < quietMs) {
      await sleep(100);
      const now = await fileSize(this.paths.errorLog);
      if (now !== size) {
        size = now;
        since = Date.now();
      }
    }
  }
}
