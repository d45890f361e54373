/**
 * GET /metrics' figures (lib/metrics): counters that only go up across an engine reload,
 * a replica that is gone leaves the export, bounded labels, the latency histogram's
 * cumulative buckets, and the bearer header parser.
 */
import { describe, expect, it } from "vitest";
import { serverCountersOf, serverDeltas, type ServerCounters } from "@/lib/core/rates";
import { MetricsState, type ReplicaSample } from "@/lib/metrics/state";
import { registryOver } from "@/lib/metrics/registry";
import { bearerTokenOf, newMetricsToken } from "@/lib/auth/metrics-tokens";

const reading = (ok: number, e5 = 0, buckets?: Record<string, number>): ServerCounters => ({
  totalRequests: ok + e5,
  responses: { "1xx": 0, "2xx": ok, "3xx": 0, "4xx": 0, "5xx": e5, other: 0 },
  connectionErrors: 0,
  retries: 0,
  redispatches: 0,
  ...(buckets ? { latencyBuckets: buckets } : {}),
});

const sample = (replicaId: string, deltas: ReplicaSample["deltas"], extra: Partial<ReplicaSample> = {}): ReplicaSample => ({
  replicaId,
  deltas,
  up: true,
  reason: "up",
  activeConnections: 2,
  memoryBytes: 50 * 1048576,
  memoryLimitBytes: 256 * 1048576,
  cpuPercent: 3.5,
  ...extra,
});

/** The value of one exposition line, by its name and labels as printed. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("serverDeltas", () => {
  it("is 0 on the first reading, the difference afterwards, and everything current after a reset (reload)", () => {
    expect(serverDeltas(undefined, reading(100)).responses["2xx"]).toBe(0);
    expect(serverDeltas(reading(100), reading(130)).responses["2xx"]).toBe(30);
    // a reload restarted the counters; 5xx went up from 0 but 2xx went down: everything counts as new
    const d = serverDeltas(reading(130, 0), reading(12, 1));
    expect(d.responses["2xx"]).toBe(12);
    expect(d.responses["5xx"]).toBe(1);
    expect(d.total).toBe(13);
  });

  it("copies what it keeps (an engine may change its objects in place)", () => {
    const live = reading(5, 0, { "1": 5, "+Inf": 0 });
    const kept = serverCountersOf(live);
    live.latencyBuckets!["1"] = 9;
    expect(serverDeltas(kept, live).buckets).toMatchObject({ "1": 4 });
  });
});

describe("the Prometheus export", () => {
  it("keeps counting up across a reload and drops a replica that is gone", async () => {
    const state = new MetricsState();
    const registry = registryOver(state);
    let prev: ServerCounters | undefined;
    const readings = [reading(0), reading(40), reading(100), reading(7) /* reload */, reading(20)];
    for (const r of readings) {
      state.observeService({ name: "web", desired: 3, ready: 2 }, [sample("abc1234567", serverDeltas(prev, r)), sample("zzz7654321", null, { up: false, reason: "starting" })]);
      prev = serverCountersOf(r);
    }
    let text = await registry.metrics();
    // 40 + 60 + 7 (after the reload) + 13
    expect(valueOf(text, 'switchyard_replica_requests_total{service="web",replica="abc1234567",code="2xx"}')).toBe(120);
    expect(valueOf(text, 'switchyard_replica_requests_total{service="web",replica="abc1234567",code="5xx"}')).toBe(0);
    expect(valueOf(text, 'switchyard_replica_up{service="web",replica="abc1234567",reason="up"}')).toBe(1);
    expect(valueOf(text, 'switchyard_replica_up{service="web",replica="zzz7654321",reason="starting"}')).toBe(0);
    expect(valueOf(text, 'switchyard_replica_memory_bytes{service="web",replica="abc1234567"}')).toBe(50 * 1048576);
    expect(valueOf(text, 'switchyard_service_desired_replicas{service="web"}')).toBe(3);
    expect(valueOf(text, 'switchyard_service_ready_replicas{service="web"}')).toBe(2);

    state.observeService({ name: "web", desired: 1, ready: 1 }, [sample("abc1234567", serverDeltas(prev, reading(25)))]);
    text = await registry.metrics();
    expect(valueOf(text, 'switchyard_replica_requests_total{service="web",replica="abc1234567",code="2xx"}')).toBe(125);
    expect(text).not.toContain("zzz7654321");

    state.retainServices([]);
    text = await registry.metrics();
    expect(text).not.toContain('service="web"');
  });

  it("says 'unknown' for a reason outside its fixed set (bounded labels)", async () => {
    const state = new MetricsState();
    state.observeService({ name: "web", desired: 1, ready: 1 }, [sample("abc1234567", null, { up: false, reason: "L7STS 503: Service Unavailable" })]);
    const text = await registryOver(state).metrics();
    expect(valueOf(text, 'switchyard_replica_up{service="web",replica="abc1234567",reason="unknown"}')).toBe(0);
  });

  it("exports the engines' latency buckets as a cumulative histogram in seconds", async () => {
    const state = new MetricsState();
    const first = reading(0, 0, { "1": 0, "5": 0, "+Inf": 0 });
    const second = reading(10, 0, { "1": 6, "5": 3, "+Inf": 1 });
    state.observeService({ name: "web", desired: 1, ready: 1 }, [sample("abc1234567", serverDeltas(first, second))]);
    const text = await registryOver(state).metrics();
    const h = (le: string) => valueOf(text, `switchyard_replica_request_duration_seconds_bucket{service="web",replica="abc1234567",le="${le}"}`);
    expect(text).toContain("# TYPE switchyard_replica_request_duration_seconds histogram");
    expect([h("0.001"), h("0.002"), h("0.005"), h("10"), h("+Inf")]).toEqual([6, 6, 9, 9, 10]);
    expect(valueOf(text, 'switchyard_replica_request_duration_seconds_count{service="web",replica="abc1234567"}')).toBe(10);
  });

  it("counts engine reloads and apply results by engine and result", async () => {
    const state = new MetricsState();
    state.engineReload("haproxy", true);
    state.engineReload("haproxy", true);
    state.engineReload("haproxy", false);
    state.applyResult("haproxy", "rolled_back");
    const text = await registryOver(state).metrics();
    expect(valueOf(text, 'switchyard_engine_reloads_total{engine="haproxy",result="ok"}')).toBe(2);
    expect(valueOf(text, 'switchyard_engine_reloads_total{engine="haproxy",result="failed"}')).toBe(1);
    expect(valueOf(text, 'switchyard_engine_applies_total{engine="haproxy",result="rolled_back"}')).toBe(1);
  });
});

describe("the autoscaler's changes", () => {
  it("are counted per service and direction; a service that is gone leaves the export", async () => {
    const state = new MetricsState();
    const registry = registryOver(state);
    state.observeService({ id: "svc1", name: "web", desired: 2, ready: 2 }, []);
    state.autoscaled("svc1", 2, 5);
    state.autoscaled("svc1", 5, 3);
    state.autoscaled("svc1", 3, 2);
    state.autoscaled("unknown", 1, 2);
    let text = await registry.metrics();
    expect(valueOf(text, 'switchyard_autoscaler_scalings_total{service="web",direction="up"}')).toBe(1);
    expect(valueOf(text, 'switchyard_autoscaler_scalings_total{service="web",direction="down"}')).toBe(2);
    state.retainServices([]);
    text = await registry.metrics();
    expect(text).not.toContain("switchyard_autoscaler_scalings_total{");
  });
});

describe("bearerTokenOf", () => {
  it("takes a token of the right shape from a Bearer header, nothing else", () => {
    const token = newMetricsToken();
    expect(bearerTokenOf(`Bearer ${token}`)).toBe(token);
    expect(bearerTokenOf(`bearer ${token}`)).toBe(token);
    expect(bearerTokenOf(null)).toBeNull();
    expect(bearerTokenOf(`Basic ${token}`)).toBeNull();
    expect(bearerTokenOf("Bearer sy_metrics_short")).toBeNull();
    expect(bearerTokenOf(`Bearer ${token}x`)).toBeNull();
    expect(bearerTokenOf(`Bearer ${"a".repeat(5000)}`)).toBeNull();
  });
});
