/**
 * Issue 12, item 9, against real replica processes (and a real Docker engine):
 *
 * - a service's memory threshold reaches the replica through its environment: its
 *   /health and admin info report it, and /health turns 503 past it (at a share the
 *   old fixed 80 % would have called healthy);
 * - the process runtime's "limit enforced" is true exactly when the limit holds on this
 *   machine: enforced, a replica stressed past its limit is killed by the kernel (and
 *   the runtime says "out of memory"); not enforced, it runs on past the limit;
 * - a panel that is not root gets "not enforced" with the reason (it may create no cgroups);
 * - an existing database upgrades: the migration adds the column and moves a
 *   MEMORY_THRESHOLD_PERCENT variable out of a service's environment into it.
 *
 * Replica ports 27400-27449 (processes) and 27500-27599 (containers); the e2e file uses 27450-27499.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createProcessRuntime, type ProcessRuntime } from "@/lib/runtime/process";
import { createDockerRuntime, type DockerRuntime } from "@/lib/runtime/docker";
import type { ReplicaSpec, RuntimeEvent, RuntimeReplica } from "@/lib/runtime/types";
import { REPLICA_SERVER_JS } from "../helpers/replica-process";
import { adminPost, until, waitFor } from "../helpers/load";
import { needs } from "../helpers/requirements";

const ROOT = path.resolve(__dirname, "../..");
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

function run(file: string, args: string[], timeoutMs = 120_000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() || String(err?.message ?? "") });
    });
  });
}

function spec(replicaId: string, extra: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    serviceId: `svc-threshold-${RUN}`,
    serviceName: `mt${RUN}`,
    replicaId,
    env: {},
    dataPort: 8080,
    adminPort: 9090,
    adminToken: `token-${replicaId}`,
    memoryLimitMb: 128,
    cpuLimit: null,
    ...extra,
  };
}

type Health = { status: number; body: { thresholdPercent?: number; percent: number; rssMb: number; limitMb: number; reason?: string } };

async function health(r: RuntimeReplica): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${r.dataAddr.port}/health`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Health["body"] };
}

async function adminInfo(r: RuntimeReplica, token: string): Promise<{ memory: { thresholdPercent: number } }> {
  const res = await fetch(`http://127.0.0.1:${r.adminAddr.port}/admin/info`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as { memory: { thresholdPercent: number } };
}

/**
 * What this machine allows, read independently of the runtime: a memory controller (a
 * cgroup v1 memory hierarchy, or the v2 memory controller) and a root panel.
 */
function machineAllowsMemoryCgroups(): boolean {
  const v1 = existsSync("/sys/fs/cgroup/memory/cgroup.procs");
  const v2 = (() => {
    try {
      return readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("memory");
    } catch {
      return false;
    }
  })();
  return isRoot && (v1 || v2);
}

describe("the memory threshold reaches process replicas, and the limit is what the runtime says", () => {
  let dataDir: string;
  let runtime: ProcessRuntime;
  let unlimited: ProcessRuntime;
  const events: RuntimeEvent[] = [];
  let off = () => undefined as void;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sy-memory-threshold-"));
    const common = { portRange: { from: 27400, to: 27449 }, defaultCommand: [process.execPath, REPLICA_SERVER_JS], watchIntervalMs: 250 };
    runtime = createProcessRuntime({ ...common, dataDir: path.join(dataDir, "a") });
    unlimited = createProcessRuntime({ ...common, dataDir: path.join(dataDir, "b"), memoryCgroups: false });
    off = runtime.onEvent((e) => events.push(e));
  });

  afterAll(async () => {
    off();
    for (const rt of [runtime, unlimited]) if (rt) for (const r of await rt.list()) await rt.remove(r.replicaId);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("a replica gets the service's threshold: /health and admin info report it, and /health fails past it", async () => {
    const id = `th${RUN}`;
    const r = await runtime.create(spec(id, { memoryThresholdPercent: 60 }));
    const first = await waitFor("the replica to answer /health", () => health(r).catch(() => null), 15_000);
    expect(first.status).toBe(200);
    expect(first.body.thresholdPercent).toBe(60);
    expect((await adminInfo(r, `token-${id}`)).memory.thresholdPercent).toBe(60);
    // hold memory until RSS is past 60 % of 128 MB: /health turns 503, naming the threshold
    const need = Math.max(1, Math.ceil(128 * 0.62 - first.body.rssMb));
    await adminPost(r.adminAddr.port, `token-${id}`, "/admin/stress/memory", { mb: need });
    const sick = await until("/health to fail past 60 %", () => health(r), (h) => h.status === 503, 10_000);
    console.log(`threshold 60 %: /health ${sick.status} at ${sick.body.percent} % (${sick.body.rssMb} of ${sick.body.limitMb} MB)`);
    expect(sick.body.reason).toContain("(threshold 60%)");
    expect(sick.body.percent).toBeGreaterThanOrEqual(60);
    expect(sick.body.percent, "a share the old fixed 80 % called healthy").toBeLessThan(80);
    await adminPost(r.adminAddr.port, `token-${id}`, "/admin/clear", {});
    expect((await until("/health to pass again after clear", () => health(r), (h) => h.status === 200, 10_000)).body.thresholdPercent).toBe(60);
    await runtime.remove(id);
  });

  it("'limit enforced' is true exactly when this machine lets the runtime hold a replica to its limit", async () => {
    const enforcement = await runtime.memoryLimitEnforcement();
    console.log(`memory limit enforcement here (uid ${process.getuid?.()}): ${JSON.stringify(enforcement)}`);
    expect(enforcement.enforced).toBe(machineAllowsMemoryCgroups());

    const id = `oom${RUN}`;
    const r = await runtime.create(spec(id, { memoryLimitMb: 96 }));
    await waitFor("the replica to answer /health", () => health(r).catch(() => null), 15_000);
    const stats = await waitFor("stats", () => runtime.stats(r.runtimeRef), 5000);
    expect(stats.memoryLimitBytes).toBe(96 * MiB);
    expect(stats.memoryLimitEnforced).toBe(enforcement.enforced);

    // past the limit: 150 MB more than a 96 MB limit allows
    const stressed = adminPost(r.adminAddr.port, `token-${id}`, "/admin/stress/memory", { mb: 150 }).then(
      () => "answered",
      (e: Error) => `failed: ${e.message}`,
    );
    if (enforcement.enforced) {
      const dead = await until("the kernel to kill the replica at its limit", () => runtime.inspect(id), (x) => x?.state === "exited", 15_000);
      console.log(`enforced: stress past 96 MB -> ${await stressed}; ${dead!.reason}`);
      expect(dead!.oomKilled).toBe(true);
      expect(dead!.reason).toMatch(/out of memory/);
      const died = await waitFor("the died event", () => events.find((e) => e.replicaId === id && e.kind === "died"), 10_000);
      expect(died.reason).toMatch(/out of memory/);
    } else {
      expect(await stressed).toBe("answered");
      const after = (await runtime.stats(id))!;
      console.log(`not enforced: RSS ${(after.memoryBytes / MiB).toFixed(0)} MB against a 96 MB limit, still running`);
      expect(after.memoryBytes).toBeGreaterThan(96 * MiB);
      expect((await runtime.inspect(id))!.state).toBe("running");
    }
    await runtime.remove(id);
  });

  it("a runtime that holds nothing says so, and its replica does run past its limit", async () => {
    expect(await unlimited.memoryLimitEnforcement()).toEqual({ enforced: false, reason: "memory cgroups are off for this runtime" });
    const id = `free${RUN}`;
    const r = await unlimited.create(spec(id, { memoryLimitMb: 96, memoryThresholdPercent: 90 }));
    await waitFor("the replica to answer /health", () => health(r).catch(() => null), 15_000);
    await adminPost(r.adminAddr.port, `token-${id}`, "/admin/stress/memory", { mb: 150 });
    const s = (await unlimited.stats(r.runtimeRef))!;
    console.log(`not enforced: RSS ${(s.memoryBytes / MiB).toFixed(0)} MB of a 96 MB limit`);
    expect(s.memoryLimitEnforced).toBe(false);
    expect(s.memoryBytes).toBeGreaterThan(96 * MiB);
    expect((await unlimited.inspect(id))!.state).toBe("running");
    const h = await health(r);
    expect(h.status).toBe(503);
    expect(h.body.thresholdPercent).toBe(90);
    await unlimited.remove(id);
  });

  it.skipIf(!isRoot)("a panel that is not root may make no cgroups: not enforced, and the reason says why", async () => {
    // One bundled file in a folder uid 65534 can read: the clone itself may sit in a
    // folder only root can enter (CI clones into a 0700 mktemp -d), node_modules included.
    const { writeFile, chmod } = await import("node:fs/promises");
    const { build } = await import("esbuild");
    const entry = path.join(dataDir, "probe-entry.ts");
    await writeFile(entry, `import { probeMemoryEnforcement } from ${JSON.stringify(path.join(ROOT, "lib/runtime/memory-cgroup.ts"))};\nprobeMemoryEnforcement().then((r) => console.log(JSON.stringify(r)));\n`);
    const probe = path.join(dataDir, "probe.cjs");
    await build({ entryPoints: [entry], bundle: true, platform: "node", format: "cjs", outfile: probe, logLevel: "silent" });
    await chmod(dataDir, 0o755);
    await chmod(probe, 0o644);
    const out = await run("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", process.execPath, probe]);
    expect(out.ok, out.out).toBe(true);
    const result = JSON.parse(out.out.split("\n").at(-1)!) as { enforced: boolean; reason?: string };
    console.log(`as uid 65534: ${JSON.stringify(result)}`);
    expect(result.enforced).toBe(false);
    expect(result.reason).toMatch(/(uid 65534|not available|no cgroup memory controller)/);
  });
});

describe.skipIf(needs("a Docker engine", existsSync("/var/run/docker.sock") ? null : "no /var/run/docker.sock (scripts/start-dockerd.sh starts one)"))(
  "the memory threshold reaches a container replica",
  () => {
    let docker: DockerRuntime;
    const id = `dth${RUN}`;

    beforeAll(async () => {
      const built = await run(path.join(ROOT, "scripts/build-replica-image.sh"), [], 600_000);
      if (!built.ok) throw new Error(`scripts/build-replica-image.sh failed: ${built.out}`);
      docker = createDockerRuntime({ network: "host", portRange: { from: 27500, to: 27599 }, defaultImage: "switchyard/replica:latest", panelId: `mt-${RUN}` });
    }, 600_000);

    afterAll(async () => {
      await docker?.remove(id).catch(() => undefined);
    });

    it("its /health reports the threshold and Docker holds it to its limit", async () => {
      const r = await docker.create(spec(id, { memoryThresholdPercent: 55, memoryLimitMb: 96 }));
      const h = await waitFor("the container to answer /health", () => health(r).catch(() => null), 20_000);
      expect(h.body.thresholdPercent).toBe(55);
      const s = await waitFor("stats", () => docker.stats(r.runtimeRef), 10_000);
      expect(s.memoryLimitEnforced).toBe(true);
      expect(s.memoryLimitBytes).toBe(96 * MiB);
    });
  },
);

describe("an existing database upgrades", () => {
  it("gets the column (80 by default) and a service's MEMORY_THRESHOLD_PERCENT moves into it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "sy-threshold-migration-"));
    const db = new Database(path.join(dir, "switchyard.db"));
    try {
      const migrations = readdirSync(path.join(ROOT, "prisma/migrations"), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
      const mine = migrations.findIndex((m) => m.endsWith("_service_memory_threshold"));
      expect(mine).toBeGreaterThan(0);
      const sql = (m: string) => readFileSync(path.join(ROOT, "prisma/migrations", m, "migration.sql"), "utf8");
      for (const m of migrations.slice(0, mine)) db.exec(sql(m));
      const add = db.prepare(`INSERT INTO "Service" (id, name, runtime, env, adminToken, rules, updatedAt) VALUES (?, ?, 'process', ?, 't', '{}', CURRENT_TIMESTAMP)`);
      add.run("a", "alpha", JSON.stringify({ MEMORY_THRESHOLD_PERCENT: "85", GREETING: "hi" }));
      add.run("b", "beta", JSON.stringify({ GREETING: "x" }));
      add.run("c", "gamma", JSON.stringify({ MEMORY_THRESHOLD_PERCENT: "100" }));
      add.run("d", "delta", JSON.stringify({ MEMORY_THRESHOLD_PERCENT: "eighty" }));
      db.exec(sql(migrations[mine]));
      const rows = db.prepare(`SELECT name, env, memoryThresholdPercent AS t, memoryLimitMb FROM "Service" ORDER BY name`).all();
      expect(rows).toEqual([
        { name: "alpha", env: '{"GREETING":"hi"}', t: 85, memoryLimitMb: 256 },
        { name: "beta", env: '{"GREETING":"x"}', t: 80, memoryLimitMb: 256 },
        { name: "delta", env: "{}", t: 80, memoryLimitMb: 256 },
        { name: "gamma", env: "{}", t: 99, memoryLimitMb: 256 },
      ]);
      // later migrations still apply on top
      for (const m of migrations.slice(mine + 1)) db.exec(sql(m));
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
