import { db } from "@/lib/db/client";
import { remember } from "@/lib/remember";
import type { RunningEngine } from "@/lib/engines/types";
import { parseRules } from "@/lib/db/rows";
import { controller } from "@/lib/controller/controller";
import { probeHealth } from "@/lib/controller/probe";

/**
 * Active health checks supplied by the panel for engines that have none
 * (nginx OSS: its descriptor says `panelProbes`, and it has the port's optional
 * `setProbeDown`). Each replica in the engine is probed on its data address (its fault
 * proxy's while a network fault is set: the path the balancer takes) at the rule's interval, with the user's rise/fall semantics; failing replicas are
 * reported to the engine, which renders them `down`.
 */

type ProbeDownEngine = RunningEngine & Required<Pick<RunningEngine, "setProbeDown">>;

export function needsPanelProber(engine: RunningEngine): engine is ProbeDownEngine {
  return engine.setProbeDown !== undefined;
}

type State = { up: boolean; okRun: number; failRun: number; reason: string; nextAt: number; busy: boolean };

export class Prober {
  private timer: NodeJS.Timeout | null = null;
  private states = new Map<string, State>(); // key host:port
  private lastDown = "";

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    const engine = controller().engine;
    if (!needsPanelProber(engine) || !controller().engineState().ready) return;
    const services = await db().service.findMany({ include: { instances: { where: { inEngine: true } } } });
    const now = Date.now();
    const seen = new Set<string>();
    for (const svc of services) {
      const h = parseRules(svc.rules).healthCheck;
      for (const r of svc.instances) {
        if (!r.dataAddr) continue;
        // the balancer's path: the fault proxy while a network fault is set (as HAProxy's and
        // the builtin proxy's own checks see it), and the key the engine renders the server by
        const key = r.faultAddr ?? r.dataAddr;
        seen.add(key);
        let st = this.states.get(key);
        if (!st) this.states.set(key, (st = { up: true, okRun: 0, failRun: 0, reason: "", nextAt: now, busy: false }));
        if (st.busy || now < st.nextAt) continue;
        st.busy = true;
        st.nextAt = now + h.intervalMs;
        const i = key.lastIndexOf(":");
        const s = st;
        void probeHealth({ host: key.slice(0, i), port: Number(key.slice(i + 1)) }, { path: h.path, timeoutMs: h.timeoutMs, expectStatus: h.expectStatus, replicaId: r.id }).then((res) => {
          s.busy = false;
          if (res.ok) {
            s.okRun++;
            s.failRun = 0;
            if (!s.up && s.okRun >= h.rise) s.up = true;
          } else {
            s.failRun++;
            s.okRun = 0;
            s.reason = res.reason;
            if (s.up && s.failRun >= h.fall) s.up = false;
          }
        });
      }
    }
    for (const k of [...this.states.keys()]) if (!seen.has(k)) this.states.delete(k);
    const down = new Map<string, string>();
    for (const [k, st] of this.states) if (!st.up) down.set(k, `panel probe: ${st.reason}`);
    const signature = [...down.keys()].sort().join(",");
    if (signature !== this.lastDown) {
      this.lastDown = signature;
      await controller().engineLock.run(() => engine.setProbeDown(down)).catch((e) => console.error("[switchyard] prober:", e));
    }
  }
}

export function prober(): Prober {
  return remember("prober", () => new Prober());
}
