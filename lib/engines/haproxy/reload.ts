/**
 * Reloading HAProxy and confirming it took: the master CLI's reload, the new worker on
 * the runtime socket with exactly the expected servers; the server state kept across a
 * reload, and the weights and admin states set again after it.
 */
import type { BalancerConfig, BalancerServer } from "@/lib/engines/types";
import type { ReloadResult } from "@/lib/engines/lifecycle/apply";
import { readOrNull, writeAtomic } from "@/lib/engines/files";
import { backendName } from "@/lib/engines/haproxy/render";
import { errorText, type HaproxyMaster } from "@/lib/engines/haproxy/master";
import type { HaproxyPaths } from "@/lib/engines/haproxy/options";
import { filterServersState, type HaproxyMasterApi, type HaproxyRuntimeApi, type StatRow } from "@/lib/engines/haproxy/runtime-api";
import { sleep } from "@/lib/process/sleep";

export class HaproxyReloader {
  constructor(
    private readonly paths: HaproxyPaths,
    private readonly master: HaproxyMasterApi,
    private readonly runtime: HaproxyRuntimeApi,
    private readonly process: HaproxyMaster,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Reload through the master, then wait until a new worker (reload count 0) answers
   * on the runtime socket and lists exactly the expected servers; a grown
   * "failed" count means the master could not load the file.
   */
  async reloadAndVerify(config: BalancerConfig | null): Promise<ReloadResult> {
    const logStart = await this.process.logSize();
    let before;
    try {
      before = await this.master.showProc();
    } catch (e) {
      return { ok: false, error: `haproxy master does not answer: ${errorText(e)}` };
    }
    const known = new Set([...before.workers, ...before.oldWorkers].map((w) => w.pid));
    await this.master.reload();
    const deadline = Date.now() + this.timeoutMs;
    let lastProblem = "the new worker did not answer";
    while (Date.now() < deadline) {
      await sleep(50);
      let proc;
      try {
        proc = await this.master.showProc();
      } catch {
        continue; // the master is re-executing
      }
      if (proc.master.failedReloads > before.master.failedReloads) {
        return { ok: false, error: `haproxy could not load the new configuration: ${await this.process.logSince(logStart)}` };
      }
      const fresh = proc.workers.find((w) => w.reloads === 0 && !known.has(w.pid));
      if (!fresh) continue;
      try {
        const info = await this.runtime.showInfo();
        if (info.Pid !== String(fresh.pid)) continue;
        if (!config) return { ok: true };
        const mismatch = serverMismatch(config, await this.runtime.showStat());
        if (mismatch === null) return { ok: true };
        lastProblem = mismatch;
      } catch (e) {
        lastProblem = errorText(e);
      }
    }
    return { ok: false, error: `haproxy reload not confirmed within ${this.timeoutMs} ms: ${lastProblem}` };
  }

  /**
   * The config file is the truth for weights and admin states: the state file may hold
   * older runtime values, and drain is rendered as weight 0 (HAProxy 2.6 has no drain
   * keyword). So after every (re)start set each server's weight and state at run time.
   */
  async syncRuntimeState(config: BalancerConfig): Promise<void> {
    const cmds: string[] = [];
    for (const service of config.services) {
      const be = backendName(service.name);
      for (const s of service.servers) cmds.push(`set server ${be}/${s.name} weight ${s.weight}`, `set server ${be}/${s.name} state ${s.adminState}`);
    }
    for (let i = 0; i < cmds.length; i += 40) await this.runtime.run(...cmds.slice(i, i + 40));
  }

  /**
   * `show servers state` (or the state file left by an earlier run) into the state
   * file, minus servers whose name now points elsewhere: HAProxy would restore their
   * old address.
   */
  async saveServerState(next: BalancerConfig, from: "runtime" | "file" = "runtime"): Promise<void> {
    let dump: string | null;
    try {
      dump = from === "runtime" ? await this.runtime.showServersState() : await readOrNull(this.paths.stateFile);
    } catch {
      dump = null;
    }
    if (dump === null) return; // nothing to keep
    const wanted = new Map<string, BalancerServer>();
    for (const service of next.services) for (const s of service.servers) wanted.set(`${backendName(service.name)}/${s.name}`, s);
    const kept = filterServersState(dump, (k) => {
      const s = wanted.get(`${k.backend}/${k.server}`);
      // A DNS name (docker bridge) may resolve elsewhere now: keep only exact IPv4 matches.
      return s !== undefined && s.port === k.port && s.host === k.address;
    });
    await writeAtomic(this.paths.stateFile, kept);
  }
}

/** The first backend whose live servers differ from the config's, in words; null when every backend agrees. */
function serverMismatch(config: BalancerConfig, rows: StatRow[]): string | null {
  for (const service of config.services) {
    const be = backendName(service.name);
    const live = rows.filter((r) => r.pxname === be && r.svname !== "BACKEND" && r.svname !== "FRONTEND").map((r) => r.svname);
    const want = service.servers.map((s) => s.name);
    const same = live.length === want.length && want.every((n) => live.includes(n));
    if (!same) return `backend ${be} lists servers [${live.join(", ")}], expected [${want.join(", ")}]`;
  }
  return null;
}
