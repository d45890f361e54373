import { LATENCY_BUCKET_KEYS, type ServerDeltas } from "@/lib/core/rates";
import { remember } from "@/lib/remember";

/**
 * What GET /metrics exports, kept as plain figures: per replica, counters that only go
 * up (the sum of the deltas the collector computes once a second for the dashboard, so
 * an engine reload, which restarts the engine's own counters, never lowers them) and the
 * latest gauges; per service, desired and ready replicas; the engines' reloads and apply
 * results. lib/metrics/registry.ts formats it with prom-client at scrape time.
 *
 * Cardinality is bounded: one entry per replica that exists now (a replica that is gone
 * is dropped at the next tick), six response classes, fourteen latency buckets, and
 * `reason` is one word from a fixed set (the engine's health status or the replica's state).
 */

export const RESPONSE_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"] as const;
export type ResponseClass = (typeof RESPONSE_CLASSES)[number];

/** A replica's figures of the moment (gauges). */
type ReplicaGauges = {
  /** in rotation: the engine sends it traffic */
  up: boolean;
  /** why (not) up: the engine's health status, or the replica's own state while it is not in the engine */
  reason: string;
  activeConnections: number;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  cpuPercent: number | null;
};

/** One replica's reading in one collector tick. */
export type ReplicaSample = ReplicaGauges & {
  replicaId: string;
  /** what the engine counted since the last tick; null when the engine does not list the replica */
  deltas: ServerDeltas | null;
};

export type ReplicaFigures = ReplicaGauges & {
  service: string;
  replica: string;
  requests: Record<ResponseClass, number>;
  connectionErrors: number;
  retries: number;
  redispatches: number;
  /** answers per latency bucket (key: upper bound in ms, "+Inf" last), not cumulative; null until the engine gives a distribution */
  latency: Record<string, number> | null;
};

export type ServiceFigures = { service: string; desired: number; ready: number };

export type ApplyOutcome = "ok" | "refused" | "failed" | "rolled_back";

/** Known reasons; anything else an engine might say is exported as "unknown" (bounded labels). */
const REASONS = new Set(["up", "down", "maint", "drain", "nocheck", "unknown", "starting", "ready", "draining", "stopping", "failed"]);

const zeroRequests = (): Record<ResponseClass, number> => ({ "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 });

export class MetricsState {
  private readonly replicas = new Map<string, ReplicaFigures>();
  private readonly services = new Map<string, ServiceFigures>();
  /** "engine|result" -> count */
  readonly reloads = new Map<string, number>();
  readonly applies = new Map<string, number>();
  /** "service|up" or "service|down" -> count: the autoscaler's changes of a service's replicas */
  readonly autoscalings = new Map<string, number>();
  /** service id -> name (events name services by id, the export by name) */
  private readonly serviceNames = new Map<string, string>();

  /** One service's tick: add the deltas, take the gauges, and drop the service's replicas that are gone. */
  observeService(service: { id?: string; name: string; desired: number; ready: number }, samples: ReplicaSample[]): void {
    this.services.set(service.name, { service: service.name, desired: service.desired, ready: service.ready });
    if (service.id) this.serviceNames.set(service.id, service.name);
    const seen = new Set<string>();
    for (const s of samples) {
      seen.add(s.replicaId);
      let f = this.replicas.get(s.replicaId);
      if (!f || f.service !== service.name) {
        f = { service: service.name, replica: s.replicaId, requests: zeroRequests(), connectionErrors: 0, retries: 0, redispatches: 0, latency: null, up: false, reason: "unknown", activeConnections: 0, memoryBytes: null, memoryLimitBytes: null, cpuPercent: null };
        this.replicas.set(s.replicaId, f);
      }
      const d = s.deltas;
      if (d) {
        for (const c of RESPONSE_CLASSES) f.requests[c] += d.responses[c];
        f.connectionErrors += d.connectionErrors;
        f.retries += d.retries;
        f.redispatches += d.redispatches;
        if (d.buckets) {
          const into = (f.latency ??= Object.fromEntries(LATENCY_BUCKET_KEYS.map((k) => [k, 0])));
          for (const [k, v] of Object.entries(d.buckets)) if (k in into && v > 0) into[k] += v;
        }
      }
      f.up = s.up;
      f.reason = REASONS.has(s.reason) ? s.reason : "unknown";
      f.activeConnections = s.activeConnections;
      f.memoryBytes = s.memoryBytes;
      f.memoryLimitBytes = s.memoryLimitBytes;
      f.cpuPercent = s.cpuPercent;
    }
    for (const [id, f] of this.replicas) if (f.service === service.name && !seen.has(id)) this.replicas.delete(id);
  }

  /** Drop the services (and their replicas) that no longer exist. */
  retainServices(names: string[]): void {
    const keep = new Set(names);
    for (const name of this.services.keys()) if (!keep.has(name)) this.services.delete(name);
    for (const [id, name] of this.serviceNames) if (!keep.has(name)) this.serviceNames.delete(id);
    for (const key of this.autoscalings.keys()) if (!keep.has(key.slice(0, key.lastIndexOf("|")))) this.autoscalings.delete(key);
    for (const [id, f] of this.replicas) if (!keep.has(f.service)) this.replicas.delete(id);
  }

  /** A reload of a running engine (a new config file taken), ok or not. */
  engineReload(engine: string, ok: boolean): void {
    const key = `${engine}|${ok ? "ok" : "failed"}`;
    this.reloads.set(key, (this.reloads.get(key) ?? 0) + 1);
  }

  /** The outcome of one apply: ok, refused by the engine's check, failed (kept), failed and rolled back. */
  applyResult(engine: string, outcome: ApplyOutcome): void {
    const key = `${engine}|${outcome}`;
    this.applies.set(key, (this.applies.get(key) ?? 0) + 1);
  }

  /** The autoscaler changed a service's desired replicas (an autoscale.scaled event). Unknown services are ignored. */
  autoscaled(serviceId: string, from: number, to: number): void {
    const name = this.serviceNames.get(serviceId);
    if (!name || from === to) return;
    const key = `${name}|${to > from ? "up" : "down"}`;
    this.autoscalings.set(key, (this.autoscalings.get(key) ?? 0) + 1);
  }

  replicaFigures(): ReplicaFigures[] {
    return [...this.replicas.values()];
  }

  serviceFigures(): ServiceFigures[] {
    return [...this.services.values()];
  }
}

/** One per process (server.ts's collector and Next's route bundle share it). */
export function metricsState(): MetricsState {
  return remember("metrics-state", () => new MetricsState());
}
