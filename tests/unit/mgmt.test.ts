import { describe, it, expect } from "vitest";
import {
  adminAddrSchema,
  faultsSchema,
  formatAdminAddr,
  isMgmtAction,
  parseAdminAddr,
  replicaActionSchema,
  replicaInfoSchema,
  type ReplicaAction,
} from "@/lib/core/mgmt";

describe("replicaActionSchema", () => {
  const valid: ReplicaAction[] = [
    { action: "restart" },
    { action: "stop" },
    { action: "stress-memory", mb: 200 },
    { action: "stress-cpu", seconds: 30 },
    { action: "faults" },
    { action: "faults", latencyMs: 250, errorRate: 0.5, failHealth: true },
    { action: "clear" },
    { action: "info" },
    { action: "drain" },
    { action: "maint" },
    { action: "ready" },
    { action: "weight", weight: 0 },
    { action: "weight", weight: 256 },
    { action: "remove" },
    { action: "pause" },
    { action: "pause", seconds: 60 },
    { action: "resume" },
    { action: "kill", signal: "SIGKILL" },
    { action: "kill", signal: "SIGUSR2" },
    { action: "runtime-stress", cpus: 1, seconds: 30 },
    { action: "runtime-stress", memoryMb: 4096, seconds: 3600 },
    { action: "network-fault", latencyMs: 200, seconds: 10 },
    { action: "network-fault", blackhole: true, seconds: 1 },
  ];
  it.each(valid.map((a) => [JSON.stringify(a), a]))("accepts %s", (_name, a) => {
    expect(replicaActionSchema.parse(a)).toEqual(a);
  });

  const invalid: unknown[] = [
    {},
    { action: "reboot" },
    { action: "stress-memory" },
    { action: "stress-memory", mb: 0 },
    { action: "stress-memory", mb: 4097 },
    { action: "stress-memory", mb: 1.5 },
    { action: "stress-memory", mb: "200" },
    { action: "stress-cpu", seconds: 0 },
    { action: "stress-cpu", seconds: 301 },
    { action: "faults", latencyMs: -1 },
    { action: "faults", latencyMs: 60_001 },
    { action: "faults", errorRate: 1.01 },
    { action: "faults", failHealth: "yes" },
    { action: "weight" },
    { action: "weight", weight: 257 },
    { action: "clear", mb: 1 },
    { action: "restart", force: true },
    { action: "kill" },
    { action: "kill", signal: "SIGSTOP" },
    { action: "runtime-stress", seconds: 30 },
    { action: "runtime-stress", memoryMb: 4097, seconds: 30 },
    { action: "runtime-stress", cpus: 1, seconds: 0 },
    { action: "runtime-stress", cpus: 1, seconds: 3601 },
    { action: "runtime-stress", cpus: 0.5, seconds: 10 },
    { action: "network-fault", seconds: 10 },
    { action: "network-fault", latencyMs: 60_001, seconds: 10 },
    { action: "pause", seconds: 0 },
  ];
  it.each(invalid.map((a) => [JSON.stringify(a), a]))("rejects %s", (_name, a) => {
    expect(replicaActionSchema.safeParse(a).success).toBe(false);
  });

  it("tells management-plane actions from the others", () => {
    expect(isMgmtAction({ action: "clear" })).toBe(true);
    expect(isMgmtAction({ action: "stress-memory", mb: 1 })).toBe(true);
    expect(isMgmtAction({ action: "info" })).toBe(true);
    expect(isMgmtAction({ action: "drain" })).toBe(false);
    expect(isMgmtAction({ action: "restart" })).toBe(false);
    expect(isMgmtAction({ action: "weight", weight: 3 })).toBe(false);
  });
});

describe("faultsSchema", () => {
  it("accepts an empty object and rejects unknown fields", () => {
    expect(faultsSchema.parse({})).toEqual({});
    expect(faultsSchema.safeParse({ latency: 5 }).success).toBe(false);
  });
});

describe("admin addresses", () => {
  it.each([
    ["127.0.0.1:9090", { host: "127.0.0.1", port: 9090 }],
    ["localhost:1", { host: "localhost", port: 1 }],
    ["replica-a.svc:65535", { host: "replica-a.svc", port: 65535 }],
    ["[::1]:9090", { host: "[::1]", port: 9090 }],
  ])("parses %s", (s, want) => {
    expect(parseAdminAddr(s)).toEqual(want);
    expect(adminAddrSchema.safeParse(s).success).toBe(true);
  });

  it.each(["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":9090", "a b:1", "host:port", "http://x:1", "::1:9090", "h/x:1"])(
    "rejects %s",
    (s) => {
      expect(parseAdminAddr(s)).toBeNull();
      expect(adminAddrSchema.safeParse(s).success).toBe(false);
    },
  );

  it("formats, bracketing IPv6", () => {
    expect(formatAdminAddr({ host: "127.0.0.1", port: 21001 })).toBe("127.0.0.1:21001");
    expect(formatAdminAddr({ host: "::1", port: 9090 })).toBe("[::1]:9090");
    expect(formatAdminAddr({ host: "[::1]", port: 9090 })).toBe("[::1]:9090");
  });
});

describe("replicaInfoSchema", () => {
  it("reads the reference replica's /admin/info", () => {
    const body = {
      replica: "r1",
      service: "web",
      pid: 42,
      hostname: "vm",
      uptimeS: 3,
      healthy: true,
      memory: { rssMb: 46.9, heapMb: 4.3, limitMb: 256, limitSource: "env", thresholdPercent: 80, percent: 18.3 },
      stress: { memoryMb: 0, cpuUntil: null },
      faults: { latencyMs: 0, errorRate: 0, failHealth: false },
      counters: { requests: 0, errors: 0, adminRequests: 6 },
    };
    expect(replicaInfoSchema.parse(body)).toEqual(body);
  });

  it("accepts a minimal implementation without the optional fields", () => {
    const body = {
      replica: "r1",
      service: "web",
      pid: 1,
      uptimeS: 0,
      memory: { rssMb: 10, heapMb: 1, limitMb: 128, thresholdPercent: 80, percent: 7.8 },
      stress: { memoryMb: 0, cpuUntil: null },
      faults: { latencyMs: 0, errorRate: 0, failHealth: false },
      counters: { requests: 0, errors: 0, adminRequests: 1 },
    };
    expect(replicaInfoSchema.safeParse(body).success).toBe(true);
  });
});
