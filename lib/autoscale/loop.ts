import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { controller } from "@/lib/controller/controller";
import { collector } from "@/lib/controller/collector";
import type { ServiceTick } from "@/lib/core/metrics";
import { decide, type Decision, type DecideOptions, type Recommendation, type ScaleChange } from "@/lib/autoscale/decide";
import { replicaFigures } from "@/lib/autoscale/figures";
import { enabledAutoscalers, type StoredAutoscaler } from "@/lib/autoscale/store";

/**
 * The autoscaler's loop (issue 16, part 1): every few seconds, for each service whose
 * autoscaler is on and not paused by a person, the figures of the last few collector
 * ticks go through decide() (lib/autoscale/decide.ts), and a change goes the way the
 * slider's does: the desired count in the database, then the controller's reconcile
 * (new replicas join once healthy; scale-in drains first). Each change is an
 * `autoscale.scaled` event with its reason (a marker on the charts).
 *
 * The write is a compare-and-set on the desired count it read: a person who moved the
 * slider meanwhile wins (and that move paused the autoscaler, lib/services/manage-services.ts).
 */

export const AUTOSCALE_INTERVAL_MS = 3000;
/** the ticks a figure is averaged over (one a second) */
export const AUTOSCALE_SAMPLE_S = 5;

export type AutoscaleStatus = { at: number; current: number; desired: number; recommendation: number | null; reason: string };

export type AutoscaleLoopDeps = {
  /** the collector's last `points` ticks of a service */
  history: (serviceId: string, points: number) => ServiceTick[];
  intervalMs?: number;
  sampleS?: number;
  now?: () => number;
  options?: Partial<DecideOptions>;
};

type Memory = { recommendations: Recommendation[]; changes: ScaleChange[] };

export class AutoscaleLoop {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private readonly memory = new Map<string, Memory>();
  /** per service: replica id -> since when it is ready and in rotation (ms; absent: not ready) */
  private readonly readySince = new Map<string, Map<string, number>>();
  /** per service: the replicas the loop has seen (a replica seen before it was ready became ready since) */
  private readonly seen = new Map<string, Set<string>>();
  private readonly last = new Map<string, AutoscaleStatus>();

  constructor(private readonly deps: AutoscaleLoopDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? AUTOSCALE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last evaluation of a service (held or changed), for the card; null: none since the panel started. */
  status(serviceId: string): AutoscaleStatus | null {
    return this.last.get(serviceId) ?? null;
  }

  /** Settings changed, paused or resumed: the next evaluation starts without the old recommendations. */
  reset(serviceId: string): void {
    this.memory.delete(serviceId);
    this.last.delete(serviceId);
  }

  /** One evaluation of every enabled autoscaler; a call while one runs waits for that one (never two at once). */
  tick(): Promise<void> {
    this.current ??= this.evaluateAll().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async evaluateAll(): Promise<void> {
    try {
      for (const a of await enabledAutoscalers()) {
        if (a.pausedAt) {
          this.reset(a.serviceId);
          continue;
        }
        await this.evaluate(a).catch((e) => console.error(`[switchyard] autoscaler ${a.serviceId}: ${e instanceof Error ? e.message : e}`));
      }
    } catch (e) {
      console.error(`[switchyard] autoscaler: ${e instanceof Error ? e.message : e}`);
    }
  }

  private async evaluate(a: StoredAutoscaler): Promise<Decision | null> {
    const svc = await db().service.findUnique({ where: { id: a.serviceId }, include: { instances: true } });
    if (!svc) return null;
    const now = this.deps.now?.() ?? Date.now();
    const ticks = this.deps.history(svc.id, this.deps.sampleS ?? AUTOSCALE_SAMPLE_S);
    const lastTick = ticks[ticks.length - 1];
    const staying = svc.instances.filter((r) => r.state !== "draining" && r.state !== "stopping");
    // only the replicas the service has now are remembered (the maps never grow with gone ones)
    const wasReady = this.readySince.get(svc.id) ?? new Map<string, number>();
    const wasSeen = this.seen.get(svc.id) ?? new Set<string>();
    const readySince = new Map<string, number>();
    const seen = new Set<string>();
    const replicas = staying.map((r) => {
      const inRotation = lastTick?.replicas.find((t) => t.replicaId === r.id)?.inRotation ?? false;
      if (r.state === "ready" && inRotation) {
        // first seen already serving (a panel restart): since it started; else since now
        readySince.set(r.id, wasReady.get(r.id) ?? (wasSeen.has(r.id) ? now : (r.startedAt?.getTime() ?? now)));
      }
      seen.add(r.id);
      const since = readySince.get(r.id);
      return { id: r.id, readyForMs: since === undefined ? null : now - since, figures: replicaFigures(ticks, r.id, svc.memoryLimitMb) };
    });
    this.readySince.set(svc.id, readySince);
    this.seen.set(svc.id, seen);
    const mem = this.memory.get(svc.id) ?? { recommendations: [], changes: [] };
    const d = decide({ now, settings: a, current: svc.replicas, replicas, recommendations: mem.recommendations, changes: mem.changes, options: this.deps.options });
    mem.recommendations = d.recommendations;
    mem.changes = mem.changes.filter((c) => c.at > now - 60_000);
    this.memory.set(svc.id, mem);
    this.last.set(svc.id, { at: now, current: d.current, desired: d.desired, recommendation: d.recommendation, reason: d.reason });
    if (d.desired === svc.replicas) return d;

    // the way the slider scales: the desired count, then the controller; a person's move in between wins
    const res = await db().service.updateMany({ where: { id: svc.id, replicas: svc.replicas }, data: { replicas: d.desired } });
    if (res.count === 0) return null;
    mem.changes.push({ at: now, from: svc.replicas, to: d.desired });
    await recordEvent({
      kind: "autoscale.scaled",
      actor: "autoscaler",
      serviceId: svc.id,
      message: `autoscaler scaled ${svc.name}: ${d.reason}`,
      data: {
        from: svc.replicas,
        to: d.desired,
        recommendation: d.recommendation,
        limitedBy: d.limitedBy,
        targets: d.targets.map((t) => ({ metric: t.metric, target: t.target, value: t.value, replicas: t.replicas, counted: t.counted, young: t.young, missing: t.missing })),
      },
    });
    controller().kick(svc.id);
    return d;
  }
}

/** The panel's autoscaler loop, reading the collector's ticks. */
export function autoscaleLoop(): AutoscaleLoop {
  return remember("autoscale-loop", () => new AutoscaleLoop({ history: (id, n) => collector().historyOf(id, n) }));
}
