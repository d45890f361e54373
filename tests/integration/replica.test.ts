import { describe, it, expect, afterEach } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { clear, info, setFaults, stressCpu, stressMemory } from "@/lib/mgmt/client";
import { AppError } from "@/lib/core/errors";
import { needs } from "../helpers/requirements";
import { until } from "../helpers/load";

// The replica app (replica/server.js) as a real process. Ports 21000-21099.

const running: ReplicaProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

let nextPort = 21000;
async function replica(opts: { id: string; memoryLimitMb?: number; env?: Record<string, string> }): Promise<ReplicaProcess> {
  const port = nextPort;
  nextPort += 2;
  const r = await startReplica({ port, adminPort: port + 1, token: "test-token", service: "demo", ...opts });
  running.push(r);
  return r;
}

const data = (r: ReplicaProcess, path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${r.port}${path}`, init);
const admin = (r: ReplicaProcess, path: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = r.token, ...rest } = init;
  const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return fetch(`http://127.0.0.1:${r.adminPort}${path}`, { ...rest, headers });
};
const post = (r: ReplicaProcess, path: string, body: unknown) =>
  admin(r, path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
const target = (r: ReplicaProcess) => ({ adminAddr: `127.0.0.1:${r.adminPort}`, token: r.token });

async function healthStatus(r: ReplicaProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await data(r, "/health");
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("replica data port", () => {
  it("answers /, /work and /health, naming itself", async () => {
    const r = await replica({ id: "r-data" });

    const root = await data(r, "/");
    expect(root.status).toBe(200);
    expect(root.headers.get("x-replica")).toBe("r-data");
    const rootBody = await root.json();
    expect(rootBody).toMatchObject({ replica: "r-data", service: "demo", pid: r.pid });
    expect(typeof rootBody.hostname).toBe("string");
    expect(rootBody.requests).toBeGreaterThanOrEqual(1);

    const second = await (await data(r, "/")).json();
    expect(second.requests).toBe(rootBody.requests + 1);

    const t0 = performance.now();
    const work = await data(r, "/work?ms=200&kb=64");
    const body = Buffer.from(await work.arrayBuffer());
    expect(work.status).toBe(200);
    expect(work.headers.get("x-replica")).toBe("r-data");
    expect(body.length).toBe(64 * 1024);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);

    const small = await data(r, "/work?ms=0");
    expect(await small.json()).toEqual({ replica: "r-data", ms: 0, kb: 0 });
    expect((await data(r, "/work?ms=abc")).status).toBe(400);
    expect((await data(r, "/nope")).status).toBe(404);

    const h = await healthStatus(r);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ replica: "r-data", limitMb: 256, status: "ok" });
    expect(h.body.rssMb as number).toBeGreaterThan(10);
    expect(h.body.percent).toBeCloseTo(((h.body.rssMb as number) / 256) * 100, 0);
  });
});

describe("replica admin port", () => {
  it("refuses requests without the right token", async () => {
    const r = await replica({ id: "r-auth" });
    const none = await admin(r, "/admin/info", { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await admin(r, "/admin/info", { token: "wrong" })).status).toBe(401);
    expect((await admin(r, "/admin/clear", { method: "POST", token: "test-token-longer" })).status).toBe(401);
    expect((await admin(r, "/admin/info")).status).toBe(200);

    // the client names the replica and the cause, never the token
    const e = await info({ ...target(r), token: "wrong" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("unavailable");
    expect((e as AppError).message).toContain(`127.0.0.1:${r.adminPort}`);
    expect((e as AppError).message).toContain("401");
  });

  it("memory stress turns /health 503 past the threshold, clear brings it back", async () => {
    const r = await replica({ id: "r-mem", memoryLimitMb: 256 });
    const before = await info(target(r));
    expect(before.memory).toMatchObject({ limitMb: 256, limitSource: "env", thresholdPercent: 80 });
    expect((await healthStatus(r)).status).toBe(200);

    const held = await stressMemory(target(r), 200);
    expect(held.memoryMb).toBe(200);
    expect(held.rssMb).toBeGreaterThan(before.memory.rssMb + 180);

    const sick = await healthStatus(r);
    expect(sick.status).toBe(503);
    expect(sick.body).toMatchObject({ replica: "r-mem", status: "unhealthy", limitMb: 256 });
    expect(sick.body.reason).toMatch(/threshold 80%/);
    expect((await info(target(r))).stress.memoryMb).toBe(200);

    const cleared = await clear(target(r));
    expect(cleared).toMatchObject({ releasedMb: 200, stoppedCpu: false, clearedFaults: false });
    const healed = await healthStatus(r);
    expect(healed.status).toBe(200);
    expect(healed.body.rssMb as number).toBeLessThan(before.memory.rssMb + 60);
    expect((await info(target(r))).stress.memoryMb).toBe(0);
  });

  it("faults: errorRate 1 gives 500s, failHealth gives 503, latency delays; clear resets them", async () => {
    const r = await replica({ id: "r-faults" });
    expect(await setFaults(target(r), { errorRate: 1 })).toEqual({ faults: { latencyMs: 0, errorRate: 1, failHealth: false } });
    for (let i = 0; i < 5; i++) {
      const res = await data(r, "/");
      expect(res.status).toBe(500);
      expect(res.headers.get("x-replica")).toBe("r-faults");
      await res.arrayBuffer();
    }
    expect((await healthStatus(r)).status).toBe(200); // errorRate spares /health

    await setFaults(target(r), { errorRate: 0, failHealth: true, latencyMs: 300 });
    const h = await healthStatus(r);
    expect(h.status).toBe(503);
    expect(h.body.reason).toMatch(/failHealth/);
    const t0 = performance.now();
    expect((await data(r, "/")).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);

    const i = await info(target(r));
    expect(i.faults).toEqual({ latencyMs: 300, errorRate: 0, failHealth: true });
    expect(i.counters.errors).toBeGreaterThanOrEqual(5);

    expect(await clear(target(r))).toMatchObject({ clearedFaults: true, releasedMb: 0 });
    expect((await healthStatus(r)).status).toBe(200);
    expect((await info(target(r))).faults).toEqual({ latencyMs: 0, errorRate: 0, failHealth: false });
  });

  it("CPU stress runs off the event loop and stops on clear", async () => {
    const r = await replica({ id: "r-cpu" });
    const started = await stressCpu(target(r), 30);
    expect(Date.parse(started.cpuUntil)).toBeGreaterThan(Date.now() + 20_000);
    const t0 = performance.now();
    expect((await data(r, "/health")).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await info(target(r))).stress.cpuUntil).toBe(started.cpuUntil);
    expect(await clear(target(r))).toMatchObject({ stoppedCpu: true });
    expect((await info(target(r))).stress.cpuUntil).toBeNull();
  });

  it("answers bad bodies with 400, unknown paths with 404, large bodies with 413", async () => {
    const r = await replica({ id: "r-bad" });
    const cases: [string, unknown][] = [
      ["/admin/stress/memory", "{mb"],
      ["/admin/stress/memory", "[1]"],
      ["/admin/stress/memory", {}],
      ["/admin/stress/memory", { mb: 0 }],
      ["/admin/stress/memory", { mb: 4097 }],
      ["/admin/stress/memory", { mb: "100" }],
      ["/admin/stress/memory", { mb: 1.5 }],
      ["/admin/stress/cpu", { seconds: 301 }],
      ["/admin/faults", { latencyMs: -1 }],
      ["/admin/faults", { errorRate: 1.5 }],
      ["/admin/faults", { failHealth: "yes" }],
      ["/admin/faults", { latency: 5 }],
      ["/admin/clear", { everything: true }],
    ];
    for (const [path, body] of cases) {
      const res = await post(r, path, body);
      const json = await res.json();
      expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      expect(typeof json.error).toBe("string");
    }
    expect((await admin(r, "/admin/nope")).status).toBe(404);
    expect((await admin(r, "/admin/info", { method: "POST" })).status).toBe(405);
    const big = await post(r, "/admin/faults", JSON.stringify({ pad: "x".repeat(70 * 1024) }));
    expect(big.status).toBe(413);
    // nothing above changed the replica
    const i = await info(target(r));
    expect(i.stress).toEqual({ memoryMb: 0, cpuUntil: null });
    expect(i.faults).toEqual({ latencyMs: 0, errorRate: 0, failHealth: false });
  });

  it("the client reports a replica that is gone as connection refused", async () => {
    const e = await info({ adminAddr: "127.0.0.1:21099", token: "x" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("unavailable");
    expect((e as AppError).message).toBe("replica admin 127.0.0.1:21099: GET /admin/info failed: connection refused");
  });
});

describe("startReplica helper", () => {
  it("does not take a stray process on the port for its replica", async () => {
    const first = await replica({ id: "r-first" });
    await expect(
      startReplica({ port: first.port, adminPort: 21098, id: "r-second", startTimeoutMs: 5000 }),
    ).rejects.toThrow(/r-second exited \(code 1.*EADDRINUSE/s);
  });
});

describe("replica shutdown", () => {
  it("on SIGTERM finishes the request in flight and exits 0", async () => {
    const r = await replica({ id: "r-term" });
    const inFlight = data(r, "/work?ms=1000&kb=1");
    await until("the replica to have the request in flight", async () => (await info(target(r))).counters.requests, (n) => n >= 1);
    const exited = new Promise<number | null>((resolve) => r.child.once("exit", (code) => resolve(code)));
    r.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(1024);
    expect(await exited).toBe(0);
    await expect(data(r, "/health")).rejects.toThrow();
    expect(r.output()).toMatch(/SIGTERM, finishing [1-9]\d* request/); // it was in flight
  });

  it("with SHUTDOWN_DELAY_MS keeps serving after SIGTERM, /health 503 'stopping', then closes and exits 0", async () => {
    // a window long enough that a loaded machine still answers inside it (the test waits it out)
    const r = await replica({ id: "r-delay", env: { SHUTDOWN_DELAY_MS: "4000" } });
    const exited = new Promise<number | null>((resolve) => r.child.once("exit", (code) => resolve(code)));
    r.child.kill("SIGTERM");
    await until("the replica's /health to say it is stopping", async () => (await healthStatus(r)).status, (s) => s === 503);
    const health = await healthStatus(r);
    expect(health.body.status).toBe("stopping");
    const res = await data(r, "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("connection")).toBe("close");
    expect(await exited).toBe(0);
    await expect(data(r, "/health")).rejects.toThrow();
    expect(r.output()).toMatch(/SIGTERM, \/health answers 503; serving 4000 ms more/);
  });
});

// ---------------------------------------------------------------- the image

const run = promisify(execFile);

async function dockerUnavailable(): Promise<string | null> {
  try {
    await run("docker", ["version", "--format", "{{.Server.Version}}"], { timeout: 10_000 });
    return null;
  } catch (e) {
    return `docker engine not reachable (${(e as Error).message.split("\n")[0]})`;
  }
}

describe.skipIf(needs("a Docker engine", await dockerUnavailable()))("replica image (scripts/build-replica-image.sh)", () => {
  const script = path.resolve(__dirname, "../../scripts/build-replica-image.sh");
  const name = `sy-replica-it-${process.pid}`;

  afterEach(async () => {
    await run("docker", ["rm", "-f", name]).catch(() => {});
  });

  it("builds idempotently; a container answers on loopback and reports its cgroup memory limit", async () => {
    const first = await run("bash", [script], { timeout: 120_000 });
    const id = first.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await run("bash", [script], { timeout: 120_000 });
    expect(again.stdout.trim()).toBe(id);

    await run("docker", [
      "run", "-d", "--name", name, "--network", "host", "--memory", "128m",
      "-e", "PORT=21020", "-e", "ADMIN_PORT=21021", "-e", "ADMIN_TOKEN=image-token",
      "-e", "REPLICA_ID=r-image", "-e", "MEMORY_LIMIT_MB=256",
      "switchyard/replica:latest",
    ]);
    let health: Response | null = null;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch("http://127.0.0.1:21020/health").catch(() => null);
      if (!health) await new Promise((r) => setTimeout(r, 50));
    }
    expect(health?.status).toBe(200);
    expect(await health!.json()).toMatchObject({ replica: "r-image", limitMb: 128, status: "ok" });
    const i = await info({ adminAddr: "127.0.0.1:21021", token: "image-token" });
    expect(i.memory).toMatchObject({ limitMb: 128, limitSource: "cgroup" });

    // SIGTERM handled by node as PID 1: the container ends by itself, exit 0, well before
    // docker's 10 s grace (a SIGTERM ignored would end in SIGKILL: exit 137, after 10 s)
    const t0 = performance.now();
    await run("docker", ["stop", "-t", "10", name]);
    const stopMs = Math.round(performance.now() - t0);
    console.log(`docker stop took ${stopMs} ms`);
    const state = await run("docker", ["inspect", "-f", "{{.State.ExitCode}}", name]);
    expect(state.stdout.trim()).toBe("0");
    expect(stopMs).toBeLessThan(10_000);
  });
});
