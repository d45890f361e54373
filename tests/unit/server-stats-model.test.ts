import { describe, expect, it } from "vitest";
import type { ReplicaTick, ServerFigures, ServiceTick } from "@/lib/core/metrics";
import { bytesText, durationText, problemCount, stateOf, statsRows, unavailable, unavailableReasons } from "@/components/stats/server-stats-model";

const figures = (extra: Partial<ServerFigures> = {}): ServerFigures => ({
  name: "r-a",
  sessions: { current: 1, max: 4, limit: null },
  queue: { current: 0, max: 0 },
  requests: 100,
  bytes: { in: 1000, out: 20000 },
  responses: { "1xx": 0, "2xx": 100, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 },
  connectionErrors: 0,
  retries: 0,
  redispatches: 0,
  check: { durationMs: 1, failures: 0, downTransitions: 0 },
  downtimeS: 0,
  weight: 100,
  weightFrom: "engine",
  adminState: "ready",
  ...extra,
});

const replica = (id: string, extra: Partial<ReplicaTick> = {}): ReplicaTick => ({
  replicaId: id,
  rps: 10,
  errors: { "4xx": 0, "5xx": 0, conn: 0 },
  share: 0.5,
  latency: { p50: null, p95: null, p99: null, avg: null },
  latencyBuckets: { "1": 0, "2": 10 },
  activeConnections: 1,
  health: { status: "up", reason: "L7OK 200", lastChangeMs: 65_000 },
  inRotation: true,
  memoryMb: null,
  memoryLimitMb: null,
  cpuPercent: null,
  server: figures({ name: `r-${id}` }),
  ...extra,
});

const ticks = (n: number, replicas: (i: number) => ReplicaTick[]): ServiceTick[] =>
  Array.from({ length: n }, (_, i) => ({ t: 1_000_000 + i * 1000, serviceId: "s", rps: 0, errors: { "4xx": 0, "5xx": 0, conn: 0 }, latency: { p50: null, p95: null, p99: null }, replicas: replicas(i) }));

describe("stats table model", () => {
  it("says each state in a word, not by colour alone", () => {
    expect(stateOf(replica("a")).word).toBe("UP");
    expect(stateOf(replica("a", { health: { status: "down", reason: "L7STS 503", lastChangeMs: 1 } })).word).toBe("DOWN");
    expect(stateOf(replica("a", { server: figures({ adminState: "drain" }) })).word).toBe("DRAIN");
    expect(stateOf(replica("a", { health: { status: "down", reason: null, lastChangeMs: 1 }, server: figures({ adminState: "maint" }) })).word).toBe("MAINT");
    expect(stateOf(replica("a", { health: { status: "unknown", reason: null, lastChangeMs: null } })).word).toBe("UNKNOWN");
  });

  it("counts a down server and one answering 5xx as problems, a healthy one not", () => {
    const history = ticks(12, () => [
      replica("ok"),
      replica("bad", { errors: { "4xx": 0, "5xx": 3, conn: 0 } }),
      replica("gone", { health: { status: "down", reason: "L4CON", lastChangeMs: 3000 }, rps: 0, latencyBuckets: undefined }),
    ]);
    const rows = statsRows(history);
    expect(rows.map((r) => r.state.word)).toEqual(["UP", "UP", "DOWN"]);
    expect(rows[0].problems).toEqual([]);
    expect(rows[1].problems[0]).toMatch(/^5xx 30 % in the last 10 s$/);
    expect(rows[2].problems[0]).toBe("down (L4CON)");
    expect(problemCount(rows)).toBe(2);
    expect(rows[0].rate).toBe(10);
    expect(rows[0].latency).toEqual({ kind: "percentiles", p50: { lower: 1, upper: 2 }, p95: { lower: 1, upper: 2 }, p99: { lower: 1, upper: 2 } });
  });

  it("lists only servers the engine reported", () => {
    expect(statsRows(ticks(1, () => [replica("a"), replica("b", { server: undefined })])).map((r) => r.replicaId)).toEqual(["a"]);
    expect(statsRows([])).toEqual([]);
  });

  it("gives a reason for every figure an engine cannot give, and HAProxy gives them all", () => {
    expect(Object.keys(unavailableReasons.haproxy)).toEqual([]);
    expect(unavailable("nginx", "sessions")).toMatch(/nginx OSS/);
    expect(unavailable("nginx", "bytesIn")).toBeNull(); // its access log carries each try's bytes ("sy2" records)
    expect(unavailable("nginx", "sessionsMax")).toMatch(/access log/);
    expect(unavailable("builtin", "queue")).toMatch(/no queue/);
    expect(unavailable("builtin", "sessions")).toBeNull(); // the builtin proxy counts its open connections
  });

  it("formats durations and bytes", () => {
    expect(durationText(65_000)).toBe("1 min 5 s");
    expect(durationText(null)).toBeNull();
    expect(durationText(3 * 86_400_000 + 3_600_000)).toBe("3 d 1 h");
    expect(bytesText(512)).toBe("512 B");
    expect(bytesText(1536)).toBe("1.5 KiB");
    expect(bytesText(5 * 1024 * 1024)).toBe("5 MiB");
  });
});
