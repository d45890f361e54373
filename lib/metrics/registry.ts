import { Counter, Gauge, Registry } from "prom-client";
import { LATENCY_BUCKET_KEYS } from "@/lib/core/rates";
import { remember } from "@/lib/remember";
import { metricsState, RESPONSE_CLASSES, type MetricsState } from "@/lib/metrics/state";

/**
 * The Prometheus text that GET /metrics answers, formatted by prom-client from
 * lib/metrics/state.ts at scrape time: every metric's collect() copies the current
 * figures in (O(replicas), no I/O), so a scrape costs a few hundred microseconds and
 * a replica that is gone is simply not there.
 */

const REPLICA = ["service", "replica"] as const;

/** le in seconds for each of the engines' latency bucket keys (upper bound in ms, "+Inf"). */
const LE = LATENCY_BUCKET_KEYS.map((k) => ({ key: k, le: k === "+Inf" ? "+Inf" : String(Number(k) / 1000) }));

/**
 * A histogram whose buckets are counted elsewhere (the engines' latency distributions),
 * which prom-client's Histogram cannot take (it observes one value at a time). No _sum:
 * the engines keep counts per bucket, not the sum of the times (histogram_quantile and
 * rates of _count work without it).
 */
function bucketHistogram(state: () => MetricsState) {
  return {
    name: "switchyard_replica_request_duration_seconds",
    help: "Time from the balancer sending a request to the replica to its answer, where the engine gives timings (HAProxy's request log, nginx's access log, the builtin proxy).",
    type: "histogram" as const,
    aggregator: "sum" as const,
    get() {
      const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
      for (const f of state().replicaFigures()) {
        if (!f.latency) continue;
        const labels = { service: f.service, replica: f.replica };
        let cumulative = 0;
        for (const { key, le } of LE) {
          cumulative += f.latency[key] ?? 0;
          values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
        }
        values.push({ metricName: `${this.name}_count`, labels, value: cumulative });
      }
      return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    },
    reset() {},
  };
}

function createRegistry(state: () => MetricsState): Registry {
  const registry = new Registry();
  const replicas = () => state().replicaFigures();

  /** A metric whose collect() refills it from the state at each scrape. */
  function refilled<M extends Counter | Gauge>(Kind: new (cfg: ConstructorParameters<typeof Counter>[0]) => M) {
    return (name: string, help: string, labelNames: readonly string[], fill: (m: M) => void) =>
      new Kind({
        name,
        help,
        labelNames,
        registers: [registry],
        collect(this: M) {
          this.reset();
          fill(this);
        },
      } as ConstructorParameters<typeof Counter>[0]);
  }
  const counter = refilled<Counter>(Counter);
  const gauge = refilled<Gauge>(Gauge as unknown as new (cfg: ConstructorParameters<typeof Counter>[0]) => Gauge);

  counter("switchyard_replica_requests_total", "Answers the balancer got from the replica, by status class (1xx..5xx, other). Counted by the panel from the engine's figures: an engine reload does not lower it.", [...REPLICA, "code"], (c) => {
    for (const f of replicas()) for (const code of RESPONSE_CLASSES) if (f.requests[code] > 0 || code === "2xx" || code === "4xx" || code === "5xx") c.inc({ service: f.service, replica: f.replica, code }, f.requests[code]);
  });
  counter("switchyard_replica_connection_errors_total", "Failed connections from the balancer to the replica.", REPLICA, (c) => {
    for (const f of replicas()) c.inc({ service: f.service, replica: f.replica }, f.connectionErrors);
  });
  counter("switchyard_replica_retries_total", "Requests the balancer retried against the replica (HAProxy wretr; nginx: attempts after the first).", REPLICA, (c) => {
    for (const f of replicas()) c.inc({ service: f.service, replica: f.replica }, f.retries);
  });
  counter("switchyard_replica_redispatches_total", "Requests the balancer moved from the replica to another one (HAProxy wredis).", REPLICA, (c) => {
    for (const f of replicas()) c.inc({ service: f.service, replica: f.replica }, f.redispatches);
  });
  registry.registerMetric(bucketHistogram(state) as unknown as Counter);

  gauge("switchyard_replica_up", "1 when the balancer sends the replica traffic (healthy and admin state ready), else 0; reason: the engine's health status (up, down, maint, drain, nocheck, unknown) or the replica's state while it is not in the engine (starting, draining, stopping, failed).", [...REPLICA, "reason"], (g) => {
    for (const f of replicas()) g.set({ service: f.service, replica: f.replica, reason: f.reason }, f.up ? 1 : 0);
  });
  gauge("switchyard_replica_active_connections", "Connections from the balancer to the replica now.", REPLICA, (g) => {
    for (const f of replicas()) g.set({ service: f.service, replica: f.replica }, f.activeConnections);
  });
  gauge("switchyard_replica_memory_bytes", "The replica's memory use as its runtime reports it.", REPLICA, (g) => {
    for (const f of replicas()) if (f.memoryBytes !== null) g.set({ service: f.service, replica: f.replica }, f.memoryBytes);
  });
  gauge("switchyard_replica_memory_limit_bytes", "The replica's memory limit (the runtime's, else the service's setting).", REPLICA, (g) => {
    for (const f of replicas()) if (f.memoryLimitBytes !== null) g.set({ service: f.service, replica: f.replica }, f.memoryLimitBytes);
  });
  gauge("switchyard_replica_cpu_percent", "The replica's CPU use in percent of one core, over the collector's last second.", REPLICA, (g) => {
    for (const f of replicas()) if (f.cpuPercent !== null) g.set({ service: f.service, replica: f.replica }, f.cpuPercent);
  });
  gauge("switchyard_service_desired_replicas", "Replicas the service should have (its slider).", ["service"], (g) => {
    for (const s of state().serviceFigures()) g.set({ service: s.service }, s.desired);
  });
  gauge("switchyard_service_ready_replicas", "Replicas of the service in state ready.", ["service"], (g) => {
    for (const s of state().serviceFigures()) g.set({ service: s.service }, s.ready);
  });
  counter("switchyard_engine_reloads_total", "Reloads of the balancer with a new configuration file, by engine and result (ok, failed).", ["engine", "result"], (c) => {
    for (const [key, n] of state().reloads) {
      const [engine, result] = key.split("|");
      c.inc({ engine, result }, n);
    }
  });
  counter("switchyard_engine_applies_total", "Configurations applied to the balancer, by engine and result: ok, refused (the engine's own check said no; nothing changed), failed, rolled_back (the previous configuration was restored).", ["engine", "result"], (c) => {
    for (const [key, n] of state().applies) {
      const [engine, result] = key.split("|");
      c.inc({ engine, result }, n);
    }
  });
  counter("switchyard_autoscaler_scalings_total", "Changes the autoscaler made to a service's desired replicas, by direction (up, down).", ["service", "direction"], (c) => {
    for (const [key, n] of state().autoscalings) {
      const at = key.lastIndexOf("|");
      c.inc({ service: key.slice(0, at), direction: key.slice(at + 1) }, n);
    }
  });
  return registry;
}

/** The exposition text and its content type. */
export async function metricsText(): Promise<{ text: string; contentType: string }> {
  const registry = remember("metrics-registry", () => createRegistry(metricsState));
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/** For tests: a registry over a state of their own. */
export function registryOver(state: MetricsState): Registry {
  return createRegistry(() => state);
}
