import { db } from "@/lib/db/client";
import { serviceState } from "@/lib/db/service-state";
import { bus, recordEvent, type SwitchyardEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import type { ReplicaTick, ServerFigures, ServiceTick } from "@/lib/core/metrics";
import { addBuckets, percentileFromBuckets, Ring, serverCountersOf, serverDeltas, sparseBuckets, type ServerCounters } from "@/lib/core/rates";
import { metricsState, type ReplicaSample } from "@/lib/metrics/state";
import { serverNameFor, type ServerStats } from "@/lib/engines/types";
import { controller } from "@/lib/controller/controller";
import { runtimeOfService } from "@/lib/runtime/registry";
import type { ReplicaStats } from "@/lib/runtime/types";
import { swarmServiceFigures } from "@/lib/controller/cluster-stats";
import { instanceSourceOf, parseRules, runtimeKindOf } from "@/lib/db/rows";
import { healthEventFor, type HealthObservation } from "@/lib/core/health-events";
import type { HealthStatus } from "@/lib/core/metrics";
import { emitServiceView, emitToService, realtime, watchedServiceIds } from "@/lib/realtime/server";
import type { TrafficStatus } from "@/lib/core/metrics";
import type { Role } from "@/lib/core/roles";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { isClusterRuntime } from "@/lib/core/service";
import type { ServiceView } from "@/lib/services/views";

/**
 * One poller for every viewer: once a second it reads the engine's per-server
 * counters and the runtime's memory/CPU, turns them into rates, keeps 15
 * minutes of 1 s points per service in memory, pushes a tick to each watched
 * service's room, and stores 1-minute points in the database (kept 7 days).
 */

const HISTORY_POINTS = 15 * 60;
const RETENTION_MS = 7 * 24 * 3600_000;

/**
 * What the collector pushes besides its ticks comes from the use cases, which sit above
 * the controller: it does not import them, lib/services/live-views.ts hands them over.
 */
export interface LiveViews {
  /** the service as the database says now (every field: the room filters per viewer) */
  service(serviceId: string): Promise<ServiceView>;
  /** the same as a user of this role may see it (the snapshot a new watcher gets) */
  serviceFor(role: Role, serviceId: string): Promise<ServiceView>;
  /** the traffic generator's figures */
  traffic(serviceId: string): TrafficStatus;
}

type MinuteAcc = { requests: number; errors: number; buckets: Record<string, number>; memSum: number; memN: number; upN: number; n: number };

export class Collector {
  private timer: NodeJS.Timeout | null = null;
  private prev = new Map<string, ServerCounters>();
  private history = new Map<string, Ring<ServiceTick>>();
  private minute = new Map<string, MinuteAcc>(); // key serviceId/replicaId
  private minuteStart = Math.floor(Date.now() / 60_000) * 60_000;
  private lastHealth = new Map<string, string>();
  private running = false;
  private lastPrune = 0;
  private serviceDirty = new Set<string>();
  private pushTimers = new Map<string, NodeJS.Timeout>();
  private views: LiveViews | null = null;
  private onEvent = (e: SwitchyardEvent) => {
    if (!e.serviceId) return;
    if (e.kind === EVENT_KIND.autoscaleScaled) countAutoscaling(e.serviceId, e.data);
    this.serviceDirty.add(e.serviceId);
    // replica changes reach viewers at once (debounced), not at the next tick: a drain
    // can finish in well under a second and the page should still show it happening
    const id = e.serviceId;
    const views = this.views;
    if (!views || this.pushTimers.has(id) || !watchedServiceIds().includes(id)) return;
    const timer = setTimeout(() => {
      this.pushTimers.delete(id);
      void views
        .service(id)
        .then((view) => emitServiceView(id, view))
        .catch(() => undefined);
    }, 50);
    timer.unref();
    this.pushTimers.set(id, timer);
  };

  /** Where service views and traffic figures come from (set once, before start). */
  provideViews(views: LiveViews): void {
    this.views = views;
  }

  /** The views, or an error saying the panel wired none (a snapshot asked for too early). */
  liveViews(): LiveViews {
    if (!this.views) throw new Error("the collector has no views: call provideLiveViews() first");
    return this.views;
  }

  start(): void {
    if (this.timer) return;
    bus().on("event", this.onEvent);
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    bus().off("event", this.onEvent);
  }

  historyOf(serviceId: string, points = 300): ServiceTick[] {
    return this.history.get(serviceId)?.last(points) ?? [];
  }

  async tick(): Promise<void> {
    if (this.running) return; // never pile up when a poll is slow
    this.running = true;
    try {
      await this.collect();
    } catch (e) {
      console.error("[switchyard] collector:", e instanceof Error ? e.message : e);
    } finally {
      this.running = false;
    }
  }

  private async collect(): Promise<void> {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const ctl = controller();
    // the rows as the database has them, from memory: read again only after a write (lib/db/service-state.ts)
    const services = await serviceState().services();
    const stats = ctl.engineState().ready ? await ctl.engine.stats().catch(() => null) : null;
    const byServer = new Map<string, ServerStats>();
    for (const s of stats?.servers ?? []) byServer.set(s.server, s);

    for (const svc of services) {
      const replicas: ReplicaTick[] = [];
      const svcBuckets: Record<string, number> = {};
      const samples: ReplicaSample[] = [];
      let avgWeighted = 0;
      const isSwarm = svc.runtime === "swarm";
      let runtimeStats: (ReplicaStats | null)[];
      if (isSwarm) {
        // a Swarm service's balancer is its own HAProxy on the overlay: its counters and the tasks' memory come through its management listener
        const figures = await swarmServiceFigures(svc);
        for (const s of figures.servers) byServer.set(s.server, s);
        runtimeStats = svc.instances.map((r) => figures.runtime.get(r.id) ?? null);
      } else {
        const runtime = runtimeOfService({ id: svc.id, name: svc.name, runtime: runtimeKindOf(svc), source: instanceSourceOf(svc) });
        // every replica's figures at once: one after another, a tick took the sum of their /proc reads
        runtimeStats = await Promise.all(svc.instances.map((r) => (r.runtimeRef ? runtime.stats(r.runtimeRef).catch(() => null) : null)));
      }
      for (const [i, r] of svc.instances.entries()) {
        const st = byServer.get(serverNameFor(r.id));
        const key = r.id;
        const prev = this.prev.get(key);
        let rps = 0;
        let e4 = 0;
        let e5 = 0;
        let conn = 0;
        let buckets: Record<string, number> | null = null;
        const deltas = st ? serverDeltas(prev, st) : null;
        if (st && deltas) {
          rps = deltas.total;
          e4 = deltas.responses["4xx"];
          e5 = deltas.responses["5xx"];
          conn = deltas.connectionErrors;
          buckets = deltas.buckets;
          this.prev.set(key, serverCountersOf(st));
        }
        if (buckets) addBuckets(svcBuckets, buckets);
        const rt = runtimeStats[i];
        // a Swarm task is never in the panel's engine: it is served by its service's own balancer;
        // a Kubernetes pod by the cluster's Service, "ready" being its EndpointSlice's word (its readiness probe on /health)
        const isPod = svc.runtime === "kubernetes";
        const served = r.inEngine || (isClusterRuntime(svc.runtime) && r.state === "ready");
        const health = st?.health ?? (isPod && served ? { status: "up" as const, reason: "ready in its EndpointSlice", lastChangeMs: null } : { status: served ? ("unknown" as const) : ("down" as const), reason: served ? null : r.state, lastChangeMs: null });
        const inRotation = served && (health.status === "up" || health.status === "nocheck") && r.adminState === "ready";
        if (st?.avgResponseMs !== undefined && rps > 0) avgWeighted += st.avgResponseMs * rps;
        replicas.push({
          replicaId: r.id,
          rps,
          errors: { "4xx": e4, "5xx": e5, conn },
          share: 0,
          latency: {
            p50: buckets ? percentileFromBuckets(buckets, 0.5) : null,
            p95: buckets ? percentileFromBuckets(buckets, 0.95) : null,
            p99: buckets ? percentileFromBuckets(buckets, 0.99) : null,
            avg: st?.avgResponseMs ?? null,
          },
          ...(buckets ? { latencyBuckets: sparseBuckets(buckets) } : {}),
          activeConnections: st?.activeConnections ?? 0,
          health,
          inRotation,
          memoryMb: rt ? Math.round((rt.memoryBytes / 1048576) * 10) / 10 : null,
          memoryLimitMb: rt?.memoryLimitBytes ? Math.round(rt.memoryLimitBytes / 1048576) : svc.memoryLimitMb,
          memoryLimitEnforced: rt ? rt.memoryLimitEnforced : null,
          cpuPercent: rt && Number.isFinite(rt.cpuPercent) ? Math.round(rt.cpuPercent * 10) / 10 : null,
          ...(st ? { server: serverFiguresOf(st, { weight: r.weight, adminState: adminStateOf(r.adminState) }) } : {}),
        });
        // health as the engine sees it becomes part of the replica's stored state (only on change)
        const healthKey = `${health.status}|${health.reason ?? ""}`;
        if (st && this.lastHealth.get(r.id) !== healthKey) {
          const before = this.lastHealth.get(r.id);
          this.lastHealth.set(r.id, healthKey);
          await db().replica.update({ where: { id: r.id }, data: { health: health.status, healthReason: health.reason } }).catch(() => undefined);
          const wasUp = before?.split("|")[0] === "up";
          const isUp = health.status === "up";
          if (before !== undefined && (health.status === "up" || health.status === "down") && wasUp !== isUp) this.serviceDirty.add(svc.id);
          const event = healthEventFor(r.id, observationOf(before), health, passiveMaxFailsOf(svc.rules));
          if (event) {
            await recordEvent({
              kind: "replica.health",
              level: event.level,
              actor: svc.name + " balancer",
              serviceId: svc.id,
              replicaId: r.id,
              message: event.message,
            });
          }
        }
        this.accumulateMinute(svc.id, r.id, rps, e5 + conn, buckets, rt ? rt.memoryBytes / 1048576 : null, inRotation);
        samples.push({
          replicaId: r.id,
          deltas,
          up: inRotation,
          reason: r.inEngine ? health.status : r.state,
          activeConnections: st?.activeConnections ?? 0,
          memoryBytes: rt ? rt.memoryBytes : null,
          memoryLimitBytes: rt?.memoryLimitBytes ?? (svc.memoryLimitMb ? svc.memoryLimitMb * 1048576 : null),
          cpuPercent: rt && Number.isFinite(rt.cpuPercent) ? rt.cpuPercent : null,
        });
      }
      // the Prometheus export (GET /metrics) counts the same deltas the dashboard shows
      metricsState().observeService({ id: svc.id, name: svc.name, desired: svc.replicas, ready: svc.instances.filter((r) => r.state === "ready").length }, samples);
      const total = replicas.reduce((s, r) => s + r.rps, 0);
      for (const r of replicas) r.share = total > 0 ? r.rps / total : 0;
      const hasBuckets = Object.values(svcBuckets).some((v) => v > 0);
      const avg = total > 0 && avgWeighted > 0 ? avgWeighted / total : null;
      const tick: ServiceTick = {
        t: now,
        serviceId: svc.id,
        rps: total,
        errors: {
          "4xx": replicas.reduce((s, r) => s + r.errors["4xx"], 0),
          "5xx": replicas.reduce((s, r) => s + r.errors["5xx"], 0),
          conn: replicas.reduce((s, r) => s + r.errors.conn, 0),
        },
        latency: hasBuckets
          ? { p50: percentileFromBuckets(svcBuckets, 0.5), p95: percentileFromBuckets(svcBuckets, 0.95), p99: percentileFromBuckets(svcBuckets, 0.99) }
          : { p50: avg, p95: null, p99: null },
        replicas,
        desired: svc.replicas,
      };
      let ring = this.history.get(svc.id);
      if (!ring) this.history.set(svc.id, (ring = new Ring(HISTORY_POINTS)));
      const before = ring.newest();
      if (before) ring.replaceNewest(historyTick(before));
      ring.push(tick);
    }

    metricsState().retainServices(services.map((s) => s.name));

    const watched = new Set(watchedServiceIds());
    const views = this.views;
    for (const id of watched) {
      const last = this.history.get(id)?.last(1)[0];
      if (last) emitToService(id, "tick", last);
      if (!views) continue;
      emitToService(id, "traffic", { ...views.traffic(id), serviceId: id });
      if (this.serviceDirty.has(id)) {
        const view = await views.service(id).catch(() => null);
        if (view) emitServiceView(id, view);
      }
    }
    this.serviceDirty.clear();
    await this.flushMinute(now);
  }

  private accumulateMinute(serviceId: string, replicaId: string, requests: number, errors: number, buckets: Record<string, number> | null, memMb: number | null, up: boolean) {
    const key = `${serviceId}/${replicaId}`;
    let acc = this.minute.get(key);
    if (!acc) this.minute.set(key, (acc = { requests: 0, errors: 0, buckets: {}, memSum: 0, memN: 0, upN: 0, n: 0 }));
    acc.requests += requests;
    acc.errors += errors;
    if (buckets) addBuckets(acc.buckets, buckets);
    if (memMb !== null) {
      acc.memSum += memMb;
      acc.memN++;
    }
    if (up) acc.upN++;
    acc.n++;
  }

  private async flushMinute(now: number): Promise<void> {
    const minute = Math.floor(now / 60_000) * 60_000;
    if (minute === this.minuteStart) return;
    const at = new Date(this.minuteStart);
    this.minuteStart = minute;
    const rows = [...this.minute.entries()].map(([key, a]) => {
      const [serviceId, replicaId] = key.split("/");
      return {
        at,
        serviceId,
        replicaId,
        rps: a.requests / 60,
        errors: a.errors / 60,
        p95Ms: percentileFromBuckets(a.buckets, 0.95),
        memoryMb: a.memN ? a.memSum / a.memN : null,
        healthy: a.n ? a.upN / a.n : 0,
      };
    });
    this.minute.clear();
    if (rows.length) await db().metricPoint.createMany({ data: rows }).catch(() => undefined);
    if (Date.now() - this.lastPrune > 3600_000) {
      this.lastPrune = Date.now();
      await db().metricPoint.deleteMany({ where: { at: { lt: new Date(Date.now() - RETENTION_MS) } } }).catch(() => undefined);
    }
  }
}

export function collector(): Collector {
  return remember("collector", () => {
    const c = new Collector();
    realtime().snapshot = async (serviceId, user) => {
      const views = c.liveViews();
      return { service: await views.serviceFor(user.role, serviceId), history: snapshotHistory(c.historyOf(serviceId, 300)), traffic: views.traffic(serviceId) };
    };
    return c;
  });
}

/**
 * The 5 minutes of ticks a new watcher gets, each replica's stats-table figures (`server`)
 * in the newest tick only: the page shows them from the newest tick (the stats table), and
 * they are half of a tick's size, so with 50 replicas a snapshot was about twice as large
 * (several MB of JSON per page load, issue 18: the panel's RSS with viewers). Every tick
 * pushed afterwards carries them whole.
 */
export function snapshotHistory(ticks: ServiceTick[]): ServiceTick[] {
  return ticks.map((t, i) => (i === ticks.length - 1 ? t : { ...t, replicas: t.replicas.map(withoutServerFigures) }));
}

function withoutServerFigures(r: ReplicaTick): ReplicaTick {
  const { server: _server, serverRetries: _retries, ...rest } = r;
  return rest;
}

/**
 * A tick as the history keeps it once a newer one came: without its replicas' stats-table
 * figures (`server`: about half of a tick; only the newest tick's are shown), keeping of them
 * the retries counter, which the rollout gates read across ticks (`serverRetries`). With 50
 * replicas the 15 minutes of history are 45,000 replica ticks, and 200 replicas four times
 * that (issue 18: the panel's RSS grew with replicas × time).
 */
export function historyTick(t: ServiceTick): ServiceTick {
  if (!t.replicas.some((r) => r.server)) return t;
  return {
    ...t,
    replicas: t.replicas.map((r) => {
      if (!r.server) return r;
      const { server, ...rest } = r;
      return { ...rest, serverRetries: server.retries };
    }),
  };
}

/** GET /metrics counts the autoscaler's changes (the autoscale.scaled event's from and to). */
function countAutoscaling(serviceId: string, data: unknown): void {
  const d = data as { from?: unknown; to?: unknown } | null;
  if (typeof d?.from === "number" && typeof d.to === "number") metricsState().autoscaled(serviceId, d.from, d.to);
}

/** The collector keeps the last health as "status|reason"; back to an observation. */
function observationOf(key: string | undefined): HealthObservation | undefined {
  if (key === undefined) return undefined;
  const at = key.indexOf("|");
  const reason = key.slice(at + 1);
  return { status: key.slice(0, at) as HealthStatus, reason: reason === "" ? null : reason };
}

function passiveMaxFailsOf(rulesJson: string): number {
  try {
    return parseRules(rulesJson).passive.maxFails;
  } catch {
    return 0;
  }
}

const ADMIN_STATES = ["ready", "drain", "maint"] as const;
const adminStateOf = (v: string): ServerFigures["adminState"] => ADMIN_STATES.find((s) => s === v) ?? "ready";

/**
 * A server's stats-table row: what the engine reports, and where it reports no weight or
 * admin state (nginx, the builtin proxy), the panel's record of what it told the engine.
 */
export function serverFiguresOf(st: ServerStats, panel: { weight: number; adminState: ServerFigures["adminState"] }): ServerFigures {
  const fromEngine = st.weight !== undefined && st.adminState !== undefined;
  return {
    name: st.server,
    sessions: { current: st.activeConnections, max: st.maxSessions ?? null, limit: st.sessionLimit ?? null },
    queue: { current: st.queueCurrent ?? null, max: st.queueMax ?? null },
    requests: st.totalRequests,
    bytes: { in: st.bytesIn ?? null, out: st.bytesOut ?? null },
    responses: { ...st.responses },
    connectionErrors: st.connectionErrors,
    retries: st.retries,
    redispatches: st.redispatches,
    check: st.check ?? { durationMs: null, failures: null, downTransitions: null },
    downtimeS: st.downtimeS ?? null,
    weight: fromEngine ? st.weight! : panel.weight,
    weightFrom: fromEngine ? "engine" : "panel",
    adminState: fromEngine ? st.adminState! : panel.adminState,
  };
}
