/**
 * The process runtime against real replica processes (ports 21100-21199).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile, access } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createProcessRuntime, type ProcessRuntime } from "@/lib/runtime/process";
import type { ReplicaSpec, RuntimeEvent, RuntimeReplica } from "@/lib/runtime/types";
import { REPLICA_SERVER_JS } from "../helpers/replica-process";
import { getJson } from "../helpers/runtime-checks";
import { waitFor } from "../helpers/load";

const RANGE = { from: 21100, to: 21199 };

function spec(replicaId: string): ReplicaSpec {
  return {
    serviceId: "svc-proc-test",
    serviceName: "proctest",
    replicaId,
    env: { EXTRA: "1" },
    dataPort: 8000,
    adminPort: 9000,
    adminToken: `token-${replicaId}`,
    memoryLimitMb: 128,
    cpuLimit: null,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("process runtime", () => {
  let dataDir: string;
  let runtime: ProcessRuntime;
  const events: RuntimeEvent[] = [];
  let off: () => void = () => undefined;
  let blocker: net.Server;
  let replicas: RuntimeReplica[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sy-runtime-process-"));
    runtime = createProcessRuntime({
      dataDir,
      portRange: RANGE,
      defaultCommand: [process.execPath, REPLICA_SERVER_JS],
      watchIntervalMs: 250,
    });
    off = runtime.onEvent((e) => events.push(e));
    // Something else already listens on the first port of the range: the allocator must step over it.
    // (When another run of this file holds it already, it is just as blocked.)
    blocker = net.createServer();
    await new Promise<void>((r) => {
      blocker.once("error", () => r());
      blocker.listen(RANGE.from, "127.0.0.1", () => r());
    });
  });

  afterAll(async () => {
    off();
    blocker?.close();
    if (runtime) for (const r of await runtime.list()) await runtime.remove(r.replicaId);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("is available", async () => {
    expect(await runtime.available()).toEqual({ ok: true });
  });

  it("creates three replicas on free ports of the range and they answer /health", async () => {
    const t0 = Date.now();
    replicas = await Promise.all(["p1", "p2", "p3"].map((id) => runtime.create(spec(id))));
    const ports = replicas.flatMap((r) => [r.dataAddr.port, r.adminAddr.port]);
    expect(new Set(ports).size).toBe(6);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(RANGE.from);
      expect(p).toBeLessThanOrEqual(RANGE.to);
    }
    expect(ports).not.toContain(RANGE.from); // held by the blocker
    for (const r of replicas) {
      expect(r.state).toBe("running");
      expect(r.runtimeRef).toMatch(/^\d+$/);
      expect(r.dataAddr.host).toBe("127.0.0.1");
      const health = await waitFor(`/health of ${r.replicaId}`, () => getJson(r.dataAddr.port));
      expect(health.replica).toBe(r.replicaId);
      expect(health.limitMb).toBe(128);
      const root = await getJson(r.dataAddr.port, "/");
      expect(root?.pid).toBe(Number(r.runtimeRef));
    }
    console.log(`3 replicas created and healthy in ${Date.now() - t0} ms`);
    expect(events.filter((e) => e.kind === "started").map((e) => e.replicaId).sort()).toEqual(["p1", "p2", "p3"]);
  });

  it("keeps a state file with labels, pid, start time, ports and the command", async () => {
    const state = JSON.parse(await readFile(path.join(dataDir, "replicas", "p1", "state.json"), "utf8"));
    expect(state.labels).toEqual({
      "switchyard.managed": "true",
      "switchyard.service": "svc-proc-test",
      "switchyard.service-name": "proctest",
      "switchyard.replica": "p1",
    });
    expect(state.pid).toBe(Number(replicas[0].runtimeRef));
    expect(state.procStartTicks).toBeGreaterThan(0);
    // the bundled app itself, or (a clone in a folder the replica user cannot search, e.g. mktemp -d's 0700)
    // the runtime's published copy of it, byte for byte the same
    expect(state.command).toHaveLength(2);
    expect(state.command[0]).toBe(process.execPath);
    expect(state.command[1] === REPLICA_SERVER_JS || state.command[1].startsWith("/var/lib/switchyard/replica-app/")).toBe(true);
    expect(await readFile(state.command[1], "utf8")).toBe(await readFile(REPLICA_SERVER_JS, "utf8"));
    expect(state.dataPort).toBe(replicas[0].dataAddr.port);
  });

  it("lists the three as running", async () => {
    const listed = await runtime.list();
    expect(listed.map((r) => [r.replicaId, r.state, r.runtimeRef]).sort()).toEqual(
      replicas.map((r) => [r.replicaId, "running", r.runtimeRef]).sort(),
    );
  });

  it("refuses to start a twin of a running replica", async () => {
    await expect(runtime.create(spec("p1"))).rejects.toMatchObject({ code: "conflict" });
  });

  it("reports a replica killed with SIGKILL as exited and emits died", async () => {
    const victim = replicas[0];
    const t0 = Date.now();
    process.kill(Number(victim.runtimeRef), "SIGKILL");
    const died = await waitFor("the died event", async () => events.find((e) => e.kind === "died" && e.replicaId === victim.replicaId), 5000);
    console.log(`died event ${Date.now() - t0} ms after SIGKILL`);
    expect(died.serviceId).toBe("svc-proc-test");
    expect(died.exitCode).toBe(137);
    const listed = (await runtime.list()).find((r) => r.replicaId === victim.replicaId)!;
    expect(listed.state).toBe("exited");
    expect(listed.exitCode).toBe(137);
    expect(listed.reason).toMatch(/SIGKILL/);
  });

  it("stops gracefully with SIGTERM (the replica exits 0 well before the grace)", async () => {
    const r = replicas[1];
    const t0 = Date.now();
    await runtime.stop(r.runtimeRef, 5000);
    const ms = Date.now() - t0;
    console.log(`graceful stop took ${ms} ms`);
    expect(ms).toBeLessThan(4000);
    expect(isAlive(Number(r.runtimeRef))).toBe(false);
    const info = await runtime.inspect(r.replicaId);
    expect(info?.state).toBe("exited");
    expect(info?.exitCode).toBe(0);
    await runtime.stop(r.runtimeRef, 5000); // stopping a stopped replica is a no-op
  });

  it("a new runtime instance (panel restart) adopts the running replica without restarting it", async () => {
    const survivor = replicas[2];
    const before = await getJson(survivor.dataAddr.port, "/");
    const again = createProcessRuntime({ dataDir, portRange: RANGE, defaultCommand: [process.execPath, REPLICA_SERVER_JS] });
    const listed = await again.list();
    expect(listed).toHaveLength(3);
    const adopted = listed.find((r) => r.replicaId === survivor.replicaId)!;
    expect(adopted.state).toBe("running");
    expect(adopted.runtimeRef).toBe(survivor.runtimeRef);
    expect(adopted.dataAddr).toEqual(survivor.dataAddr);
    expect(adopted.startedAt.getTime()).toBe(survivor.startedAt.getTime());
    const after = await getJson(survivor.dataAddr.port, "/");
    expect(after?.pid).toBe(before?.pid);
    expect(Number(after?.requests)).toBe(Number(before?.requests) + 1); // same process: its counter kept going
    expect(listed.filter((r) => r.state === "exited").map((r) => r.replicaId).sort()).toEqual(["p1", "p2"]);
  });

  it("reads stats from /proc: RSS > 0 and a CPU percentage", async () => {
    const r = replicas[2];
    const first = await runtime.stats(r.runtimeRef);
    expect(first).not.toBeNull();
    expect(first!.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(first!.memoryLimitBytes).toBe(128 * 1024 * 1024);
    for (let i = 0; i < 200; i++) await getJson(r.dataAddr.port, "/");
    const second = await runtime.stats(r.replicaId);
    expect(second!.cpuPercent).toBeGreaterThanOrEqual(0);
    console.log(`stats: rss ${(second!.memoryBytes / 1048576).toFixed(1)} MiB, cpu ${second!.cpuPercent.toFixed(1)}% (first call ${first!.cpuPercent.toFixed(1)}%)`);
    expect(await runtime.stats(replicas[0].runtimeRef)).toBeNull(); // exited
  });

  it("returns the replica's output in logs", async () => {
    const r = replicas[2];
    const lines = await runtime.logs(r.runtimeRef, 50);
    // The replica's start line names it and its data address.
    expect(lines.some((l) => l.includes(`replica ${r.replicaId}`) && l.includes(`127.0.0.1:${r.dataAddr.port}`))).toBe(true);
    expect(await runtime.logs(r.runtimeRef, 0)).toEqual([]);
  });

  it("treats a recorded pid whose start time differs (pid reuse) as exited", async () => {
    // Point p1's state at our own (alive) pid with a wrong start time.
    const file = path.join(dataDir, "replicas", "p1", "state.json");
    const state = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...state, pid: process.pid, procStartTicks: 1 }));
    const p1 = await runtime.inspect("p1");
    expect(p1?.state).toBe("exited");
    expect(p1?.runtimeRef).toBe(String(process.pid));
    await runtime.stop(String(process.pid), 0); // must not signal the test process
    expect(isAlive(process.pid)).toBe(true);
    await writeFile(file, JSON.stringify(state));
  });

  it("restarts an exited replica on the same ports", async () => {
    const r = replicas[1];
    const restarted = await runtime.restart(r.replicaId);
    expect(restarted.runtimeRef).not.toBe(r.runtimeRef);
    expect(restarted.dataAddr).toEqual(r.dataAddr);
    expect(restarted.adminAddr).toEqual(r.adminAddr);
    const health = await waitFor("/health after restart", () => getJson(r.dataAddr.port));
    expect(health.replica).toBe(r.replicaId);
    replicas[1] = restarted;
  });

  it("a second instance sees a replica die that it did not start (through /proc)", async () => {
    const watcher = createProcessRuntime({ dataDir, portRange: RANGE, defaultCommand: [], watchIntervalMs: 200 });
    const seen: RuntimeEvent[] = [];
    const stopWatching = watcher.onEvent((e) => seen.push(e));
    try {
      await waitFor("the second instance to have looked at the replicas once", () => watcher.watchLooks() > 0); // it has seen the replica running
      process.kill(Number(replicas[1].runtimeRef), "SIGKILL");
      const died = await waitFor("died seen by the second instance", async () => seen.find((e) => e.kind === "died" && e.replicaId === replicas[1].replicaId), 5000);
      expect(died.serviceId).toBe("svc-proc-test");
    } finally {
      stopWatching();
    }
  });

  it("fails clearly when the command does not exist", async () => {
    await expect(runtime.create({ ...spec("p9"), command: ["/nonexistent/binary"] })).rejects.toThrow(/command not found: \/nonexistent\/binary/);
  });

  it("removes replicas: the process ends and its folder is gone", async () => {
    const r = replicas[2];
    await runtime.remove(r.runtimeRef);
    expect(isAlive(Number(r.runtimeRef))).toBe(false);
    await expect(access(path.join(dataDir, "replicas", r.replicaId))).rejects.toThrow();
    expect(await runtime.inspect(r.replicaId)).toBeNull();
    await runtime.remove(r.runtimeRef); // idempotent
  });
});
