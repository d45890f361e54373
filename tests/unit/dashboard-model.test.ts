/**
 * The dashboard's pure pieces: colour slots that stay put, the replica state a
 * card shows, progress steps, health segments, the 5-minute ring, chart ticks,
 * and the service form's parsing (command argv, KEY=VALUE lines, API bodies).
 */
import { describe, expect, it } from "vitest";
import type { ReplicaTick, ServiceTick } from "@/lib/core/metrics";
import type { ReplicaView } from "@/lib/services/views";
import { defaultRules } from "@/lib/core/rules";
import { aServiceView } from "@/tests/helpers/service-view";
import { mergeTicks } from "@/lib/client/live";
import { allocateColors } from "@/components/charts/replica-colors";
import { healthSegments } from "@/components/charts/health-segments";
import { niceTicks, timeAxis } from "@/components/charts/chart-frame";
import { displayState, formatUptime, progressSteps, shortRef } from "@/components/replicas/replica-state";
import { describeResult } from "@/components/replicas/action-result";
import { formFromService, parseEnvLines, splitCommand, toCreateBody, toUpdateBody, emptyForm } from "@/components/services/service-form-model";
import { reachCommand } from "@/components/services/reach-command";
import { averageMeaning, chartLatencyKind, errorPercent, errorRates, rangeText, replicaFigures } from "@/components/services/replica-figures";
import { expectationOf, expectationText, trafficVerdict } from "@/components/traffic/traffic-model";

const replica = (over: Partial<ReplicaView> = {}): ReplicaView => ({
  id: "abc",
  serviceId: "s1",
  state: "ready",
  health: "up",
  healthReason: null,
  dataAddr: "127.0.0.1:20000",
  adminAddr: "127.0.0.1:20001",
  runtime: "process",
  runtimeRef: "123",
  adminState: "ready",
  weight: 100,
  inEngine: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  lastError: null,
  ...over,
});

const rtick = (id: string, over: Partial<ReplicaTick> = {}): ReplicaTick => ({
  replicaId: id,
  rps: 1,
  errors: { "4xx": 0, "5xx": 0, conn: 0 },
  share: 0.5,
  latency: { p50: null, p95: null, p99: null, avg: null },
  activeConnections: 0,
  health: { status: "up", reason: null, lastChangeMs: null },
  inRotation: true,
  memoryMb: 50,
  memoryLimitMb: 256,
  cpuPercent: 1,
  ...over,
});

const stick = (t: number, replicas: ReplicaTick[] = []): ServiceTick => ({
  t,
  serviceId: "s1",
  rps: replicas.reduce((s, r) => s + r.rps, 0),
  errors: { "4xx": 0, "5xx": 0, conn: 0 },
  latency: { p50: null, p95: null, p99: null },
  replicas,
});

describe("replica colours", () => {
  it("keep their slot while the replica exists; newcomers take the lowest free slot", () => {
    const a = allocateColors(new Map(), ["r1", "r2", "r3"]);
    expect([...a.entries()]).toEqual([
      ["r1", 0],
      ["r2", 1],
      ["r3", 2],
    ]);
    const b = allocateColors(a, ["r1", "r3", "r4"]); // r2 left, r4 arrived
    expect(b.get("r1")).toBe(0);
    expect(b.get("r3")).toBe(2);
    expect(b.get("r4")).toBe(1);
  });
});

describe("what a replica card says", () => {
  it("maps controller state, admin state and the engine's view to one display state", () => {
    expect(displayState(replica(), rtick("abc"))).toBe("in-rotation");
    expect(displayState(replica(), rtick("abc", { inRotation: false, health: { status: "down", reason: "L7STS 503", lastChangeMs: 1 } }))).toBe("down");
    expect(displayState(replica({ state: "starting" }), undefined)).toBe("starting");
    expect(displayState(replica({ state: "draining" }), rtick("abc"))).toBe("draining");
    expect(displayState(replica({ adminState: "maint" }), rtick("abc", { inRotation: false }))).toBe("maint");
    expect(displayState(replica({ state: "failed" }), undefined)).toBe("failed");
    expect(displayState(replica({ inEngine: false }), undefined)).toBe("down");
  });

  it("shows progress while a replica comes or goes", () => {
    expect(progressSteps(replica())).toBeNull();
    expect(progressSteps(replica({ state: "starting", dataAddr: null, inEngine: false }))?.map((s) => s.status)).toEqual(["active", "todo", "todo"]);
    const waiting = progressSteps(replica({ state: "starting", inEngine: false }));
    expect(waiting?.map((s) => s.status)).toEqual(["done", "active", "todo"]);
    expect(waiting?.[1].label).toBe("waiting for /health");
    expect(progressSteps(replica({ state: "stopping" }))?.map((s) => s.status)).toEqual(["done", "active"]);
  });

  it("formats uptime and runtime refs", () => {
    const start = "2026-01-01T00:00:00.000Z";
    expect(formatUptime(start, Date.parse(start) + 75_000)).toBe("1m 15s");
    expect(formatUptime(start, Date.parse(start) + 2 * 3600_000 + 5 * 60_000)).toBe("2h 5m");
    expect(formatUptime(null, 0)).toBe("–");
    expect(shortRef("4242")).toBe("4242");
    expect(shortRef("0123456789abcdef0123456789abcdef")).toBe("0123456789ab");
  });

  it("says what an action did", () => {
    expect(describeResult({ action: "stress-memory", mb: 230 }, { memoryMb: 230, rssMb: 281.4 })).toBe("holding 230 MB of extra memory; RSS now 281 MB");
    expect(describeResult({ action: "clear" }, { releasedMb: 230, stoppedCpu: false, clearedFaults: true, rssMb: 60 })).toBe("cleared: released 230 MB, cleared faults, RSS now 60 MB");
    expect(describeResult({ action: "clear" }, { ok: true, faultsCleared: [{ kind: "pause" }], message: "undid pause" })).toBe("cleared: undid pause");
    expect(describeResult({ action: "clear" }, { ok: true, faultsCleared: [], message: "no active faults" })).toBe("cleared: no active faults");
    expect(describeResult({ action: "remove" }, { ok: true, message: "removing; web now wants 2 replicas" })).toBe("removing; web now wants 2 replicas");
  });
});

describe("live history", () => {
  it("appends in time order, drops duplicates and keeps the last N", () => {
    const a = [stick(1000), stick(2000)];
    expect(mergeTicks(a, [stick(3000)]).map((t) => t.t)).toEqual([1000, 2000, 3000]);
    expect(mergeTicks(a, [stick(2000), stick(1500)]).map((t) => t.t)).toEqual([1000, 1500, 2000]);
    expect(mergeTicks(a, [stick(3000), stick(4000)], 3).map((t) => t.t)).toEqual([2000, 3000, 4000]);
    expect(mergeTicks(a, [])).toBe(a);
  });

  it("turns ticks into health segments per replica", () => {
    const down = { inRotation: false, health: { status: "down" as const, reason: "L7STS 503", lastChangeMs: null } };
    const lanes = healthSegments([stick(0, [rtick("a")]), stick(1000, [rtick("a")]), stick(2000, [rtick("a", down)]), stick(3000, [rtick("a")])]);
    expect(lanes.get("a")).toEqual([
      { from: 0, to: 2000, phase: "in", reason: null },
      { from: 2000, to: 3000, phase: "out", reason: "L7STS 503" },
      { from: 3000, to: 4000, phase: "in", reason: null },
    ]);
  });

  it("labels a fixed 5-minute window and picks round ticks", () => {
    const axis = timeAxis(600_000);
    expect(axis.domain).toEqual([300_000, 600_000]);
    expect(axis.ticks.map(axis.format)).toEqual(["-5m", "-4m", "-3m", "-2m", "-1m", "now"]);
    expect(niceTicks(66)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(0)).toEqual([0, 0.5, 1]);
    expect(niceTicks(284, true)).toEqual([0, 128, 256, 384]);
  });
});

describe("the service form", () => {
  it("splits a command into argv without a shell", () => {
    expect(splitCommand(`node "my app.js" --port 80`)).toEqual({ argv: ["node", "my app.js", "--port", "80"] });
    expect(splitCommand(`sh -c 'echo $HOME; rm -rf /'`)).toEqual({ argv: ["sh", "-c", "echo $HOME; rm -rf /"] });
    expect(splitCommand(`a ""`)).toEqual({ argv: ["a", ""] });
    expect(splitCommand(`a 'b`)).toEqual({ error: "unclosed ' quote" });
  });

  it("reads KEY=VALUE lines", () => {
    expect(parseEnvLines("A=1\n\n# note\nB=x=y\n")).toEqual({ env: { A: "1", B: "x=y" } });
    expect(parseEnvLines("A=1\nnope")).toEqual({ error: "line 2: write KEY=VALUE" });
  });

  it("builds the create body and reports the schema's errors per field", () => {
    const ok = toCreateBody({ ...emptyForm(), name: "api", env: "GREETING=hi", replicas: "3" });
    expect(ok).toEqual({ ok: true, body: { name: "api", runtime: "process", dataPort: 8000, adminPort: 9000, env: { GREETING: "hi" }, memoryLimitMb: 256, cpuLimit: null, replicas: 3 } });
    const bad = toCreateBody({ ...emptyForm(), name: "Bad_Name", adminPort: "8000", env: "PORT=1" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.name).toMatch(/DNS label/);
      expect(bad.errors.adminPort).toMatch(/must differ/);
      expect(bad.errors.env).toMatch(/set by Switchyard/);
    }
  });

  it("sends only what changed when editing", () => {
    const svc = aServiceView({ env: { A: "1" } });
    expect(toUpdateBody(formFromService(svc), svc)).toEqual({ ok: true, body: {} });
    expect(toUpdateBody({ ...formFromService(svc), memoryLimitMb: "300" }, svc)).toEqual({ ok: true, body: { memoryLimitMb: 300 } });
    expect(toUpdateBody({ ...formFromService(svc), command: "node app.js" }, svc)).toEqual({ ok: true, body: { command: ["node", "app.js"] } });
  });

  it("writes the command that reaches a service through the balancer", () => {
    const rules = defaultRules();
    expect(reachCommand(rules, { host: "0.0.0.0", port: 8080 })).toBe("curl http://127.0.0.1:8080/");
    rules.routes = [{ ...rules.routes[0], hosts: ["shop.local"], path: "/api" }];
    expect(reachCommand(rules, { host: "127.0.0.1", port: 18085 })).toBe("curl -H 'Host: shop.local' http://127.0.0.1:18085/api");
  });
});

describe("a replica's errors and latency on its card (replica-figures)", () => {
  const faulty = (t: number) =>
    stick(t, [
      rtick("bad", { rps: 10, errors: { "4xx": 0, "5xx": 3, conn: 0 }, latency: { p50: 375, p95: 487, p99: 497, avg: null }, latencyBuckets: { "250": 0, "500": 10 } }),
      rtick("good", { rps: 10, latency: { p50: 3, p95: 4.8, p99: 5, avg: null }, latencyBuckets: { "2": 0, "5": 10 } }),
    ]);

  it("sums the last 10 seconds of ticks: error rate by class, percentiles over the window's buckets", () => {
    const history = Array.from({ length: 30 }, (_, i) => faulty(1000 * (i + 1)));
    const bad = replicaFigures(history, "bad");
    expect(bad.seconds).toBe(10);
    expect(bad.requests).toBe(100);
    expect(bad.errors).toEqual({ "4xx": 0, "5xx": 30, conn: 0 });
    expect(bad.rates).toEqual({ total: 0.3, "4xx": 0, "5xx": 0.3, conn: 0 });
    expect(bad.latency).toEqual({ kind: "percentiles", p50: { lower: 250, upper: 500 }, p95: { lower: 250, upper: 500 }, p99: { lower: 250, upper: 500 } });
    expect(bad.latency?.kind === "percentiles" && rangeText(bad.latency.p95)).toBe("250–500 ms");
    const good = replicaFigures(history, "good");
    expect(good.rates?.total).toBe(0);
    expect(good.latency?.kind === "percentiles" && rangeText(good.latency.p95)).toBe("2–5 ms");
    expect(rangeText({ lower: 0, upper: 1 })).toBe("≤ 1 ms");
    expect(rangeText({ lower: 10000, upper: Infinity })).toBe("> 10000 ms");
  });

  it("the window is by time: a gap in the ticks shortens it, an older fault falls out of it", () => {
    const history = [faulty(1000), stick(20_000, [rtick("bad", { rps: 5 })]), stick(21_000, [rtick("bad", { rps: 5 })])];
    const f = replicaFigures(history, "bad");
    expect(f.seconds).toBe(2);
    expect(f.rates?.total).toBe(0);
    expect(f.latency).toBeNull(); // no distribution and no average in the window
  });

  it("an engine without a distribution (HAProxy) gives its own average, named for what it is", () => {
    const history = [stick(1000, [rtick("r", { rps: 4, latency: { p50: null, p95: null, p99: null, avg: 310 } })])];
    expect(replicaFigures(history, "r").latency).toEqual({ kind: "average", avg: 310 });
    expect(averageMeaning("haproxy").label).toBe("avg of last 1024 requests");
    expect(averageMeaning("haproxy").explain).toContain("no percentiles");
    expect(chartLatencyKind(history)).toBe("avg");
    expect(chartLatencyKind([faulty(1000)])).toBe("p95");
  });

  it("no requests: no rate (not 0 %); errors never exceed 100 % (nginx counts connection errors outside the replica's requests)", () => {
    expect(errorRates(0, { "4xx": 0, "5xx": 0, conn: 0 })).toBeNull();
    expect(errorRates(0, { "4xx": 0, "5xx": 0, conn: 4 })).toEqual({ total: 1, "4xx": 0, "5xx": 0, conn: 1 });
    expect(errorPercent(rtick("r", { rps: 8, errors: { "4xx": 2, "5xx": 2, conn: 0 } }))).toBe(50);
    expect(errorPercent(rtick("r", { rps: 0 }))).toBeNull();
  });
});

describe("what the traffic generator's clients should see (traffic-model)", () => {
  const rules = (over: { algorithm?: string; sticky?: string }) => {
    const r = defaultRules();
    return { ...r, algorithm: (over.algorithm ?? r.algorithm) as typeof r.algorithm, sticky: { ...r.sticky, mode: (over.sticky ?? "none") as typeof r.sticky.mode } };
  };

  it("round robin spreads; stickiness and source hash keep each client; one shared address or URI hash puts all on one", () => {
    expect(expectationOf(rules({}), true)).toBe("spread");
    expect(expectationOf(rules({ algorithm: "least_conn" }), false)).toBe("spread");
    expect(expectationOf(rules({ sticky: "cookie" }), false)).toBe("one-each");
    expect(expectationOf(rules({ algorithm: "source_hash" }), true)).toBe("one-each");
    expect(expectationOf(rules({ sticky: "source" }), false)).toBe("one-for-all");
    expect(expectationOf(rules({ algorithm: "uri_hash" }), true)).toBe("one-for-all");
    expect(expectationText(rules({}), true)).toBe("no stickiness (round robin): each client's requests spread over every replica in rotation");
  });

  it("says whether the counts keep the promise", () => {
    const spread = { c1: { a: 5, b: 4, c: 6 }, c2: { a: 7, b: 5, c: 3 } };
    const lined = { c1: { a: 15 }, c2: { b: 15 } }; // the old generator under round robin
    expect(trafficVerdict("spread", spread, ["a", "b", "c"])).toEqual({ expectation: "spread", holds: true, text: "2 of 2 clients reached all 3 replicas in rotation" });
    expect(trafficVerdict("spread", lined, ["a", "b", "c"])?.holds).toBe(false);
    expect(trafficVerdict("one-each", lined, ["a", "b", "c"])).toEqual({ expectation: "one-each", holds: true, text: "2 of 2 clients stayed on one replica" });
    // a request sent before the first answer's cookie may land elsewhere: up to 2 such still count as staying
    expect(trafficVerdict("one-each", { c1: { a: 20, b: 2 } }, ["a", "b"])?.holds).toBe(true);
    expect(trafficVerdict("one-each", spread, ["a", "b", "c"])?.holds).toBe(false);
    expect(trafficVerdict("one-for-all", lined, ["a", "b"])).toEqual({ expectation: "one-for-all", holds: false, text: "2 of 2 clients stayed on one replica, 2 replicas between them" });
    expect(trafficVerdict("one-for-all", { c1: { a: 9 }, c2: { a: 9 } }, ["a", "b"])?.text).toBe("all 2 clients on one replica, a");
    expect(trafficVerdict("spread", { c1: { a: 1 } }, ["a"])).toBeNull(); // too few answers to tell
  });
});
