/**
 * The Docker runtime against a real Docker engine (ports 21200-21299, host network).
 * Starts dockerd with scripts/start-dockerd.sh when it does not answer; skips, saying
 * why, only when no engine can be had. Builds the replica image with
 * scripts/build-replica-image.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { createDockerRuntime, DOCKER_API_VERSION, type DockerRuntime } from "@/lib/runtime/docker";
import { containerName } from "@/lib/runtime/container-name";
import type { ReplicaSpec, RuntimeEvent, RuntimeReplica } from "@/lib/runtime/types";
import { getJson } from "../helpers/runtime-checks";
import { waitFor } from "../helpers/load";
import { needs } from "../helpers/requirements";

const ROOT = path.resolve(__dirname, "../..");
const RANGE = { from: 21200, to: 21299 };
const IMAGE = "switchyard/replica:latest";
// Unique per run, so two runs of this file (two people, one engine) do not touch each other's containers.
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
const SERVICE_ID = `svc-docker-test-${RUN}`;
const SERVICE_NAME = `dt${RUN}`;
/** Replica ids are unique across runs too (the event stream and replica-id lookups see every run's containers). */
const id = (name: string) => `${name}${RUN}`;

function run(file: string, args: string[], timeoutMs = 120_000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() || String(err?.message ?? "") });
    });
  });
}

async function dockerAnswers(): Promise<boolean> {
  return (await run("docker", ["version", "--format", "{{.Server.Version}}"], 10_000)).ok;
}

/** Why the Docker tests cannot run here, or null when an engine answers. */
async function whyNoDocker(): Promise<string | null> {
  if (await dockerAnswers()) return null;
  const started = await run(path.join(ROOT, "scripts/start-dockerd.sh"), [], 180_000);
  if (await dockerAnswers()) return null;
  return `no Docker engine: scripts/start-dockerd.sh said: ${started.out.split("\n").slice(-5).join(" | ")}`;
}


function spec(replicaId: string, extra: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    serviceId: SERVICE_ID,
    serviceName: SERVICE_NAME,
    replicaId,
    image: IMAGE,
    env: {},
    dataPort: 8080,
    adminPort: 9090,
    adminToken: `token-${replicaId}`,
    memoryLimitMb: 96,
    cpuLimit: 0.5,
    ...extra,
  };
}

describe.skipIf(needs("a Docker engine", await whyNoDocker()))("docker runtime (host network)", () => {
  const docker = new Docker({ socketPath: "/var/run/docker.sock", version: DOCKER_API_VERSION });
  let dataDir: string;
  let runtime: DockerRuntime;
  const events: RuntimeEvent[] = [];
  let off: () => void = () => undefined;
  let replicas: RuntimeReplica[] = [];

  async function removeContainers(filter: (c: Docker.ContainerInfo) => boolean): Promise<void> {
    const all = await docker.listContainers({ all: true, filters: { label: ["switchyard.managed=true"] } });
    await Promise.all(all.filter(filter).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  const removeOurContainers = () => removeContainers((c) => c.Labels["switchyard.service"] === SERVICE_ID);
  /** Containers of interrupted earlier runs (older than 15 minutes). */
  const removeLeftovers = () =>
    removeContainers((c) => (c.Labels["switchyard.service"] ?? "").startsWith("svc-docker-test-") && c.Created < Date.now() / 1000 - 900);

  beforeAll(async () => {
    // The image script may still be on its way from another branch of the work: wait for it.
    const script = path.join(ROOT, "scripts/build-replica-image.sh");
    await waitFor("scripts/build-replica-image.sh", async () => existsSync(script), 600_000);
    const built = await run(script, []);
    if (!built.ok) throw new Error(`scripts/build-replica-image.sh failed: ${built.out}`);
    dataDir = await mkdtemp(path.join(os.tmpdir(), "sy-runtime-docker-"));
    await removeLeftovers();
    runtime = createDockerRuntime({ network: "host", portRange: RANGE, restartGraceMs: 2000 });
    off = runtime.onEvent((e) => events.push(e));
  }, 600_000);

  afterAll(async () => {
    off();
    await removeOurContainers();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const ours = async () => (await runtime.list()).filter((r) => r.serviceId === SERVICE_ID);

  it("is available", async () => {
    expect(await runtime.available()).toEqual({ ok: true });
  });

  it("creates two containers that answer /health on 127.0.0.1 with the memory limit applied", async () => {
    const t0 = Date.now();
    replicas = await Promise.all([id("d1"), id("d2")].map((rid) => runtime.create(spec(rid))));
    for (const r of replicas) {
      expect(r.state).toBe("running");
      expect(r.dataAddr.host).toBe("127.0.0.1");
      for (const p of [r.dataAddr.port, r.adminAddr.port]) {
        expect(p).toBeGreaterThanOrEqual(RANGE.from);
        expect(p).toBeLessThanOrEqual(RANGE.to);
      }
      const health = await waitFor(`/health of ${r.replicaId}`, () => getJson(r.dataAddr.port));
      expect(health.replica).toBe(r.replicaId);
      expect(health.limitMb).toBe(96);
    }
    console.log(`2 containers created and healthy in ${Date.now() - t0} ms`);
    expect(new Set(replicas.flatMap((r) => [r.dataAddr.port, r.adminAddr.port])).size).toBe(4);

    const info = await docker.getContainer(replicas[0].runtimeRef).inspect();
    expect(info.Name).toBe(`/${containerName(SERVICE_NAME, id("d1"))}`);
    expect(info.HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(5e8);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.HostConfig.NetworkMode).toBe("host");
    expect(info.HostConfig.RestartPolicy?.Name).toBe("no");
    expect(info.Config.Labels).toMatchObject({
      "switchyard.managed": "true",
      "switchyard.service": SERVICE_ID,
      "switchyard.service-name": SERVICE_NAME,
      "switchyard.replica": id("d1"),
      "switchyard.data-port": String(replicas[0].dataAddr.port),
      "switchyard.admin-port": String(replicas[0].adminAddr.port),
    });
    expect(info.Config.Env).toContain("BIND_HOST=127.0.0.1");
    expect(info.Config.Env).toContain(`PORT=${replicas[0].dataAddr.port}`);
  });

  it("lists only labelled containers", async () => {
    const stray = await docker.createContainer({ name: `sy-${SERVICE_NAME}-unlabelled`, Image: IMAGE, HostConfig: { NetworkMode: "host" } });
    try {
      const listed = await runtime.list();
      expect(listed.map((r) => r.runtimeRef)).not.toContain(stray.id);
      expect((await ours()).map((r) => r.replicaId).sort()).toEqual([id("d1"), id("d2")]);
      expect(await runtime.inspect(stray.id)).toBeNull();
      await runtime.remove(stray.id); // must not touch it
      await runtime.remove(`sy-${SERVICE_NAME}-unlabelled`);
      expect((await stray.inspect()).Id).toBe(stray.id);
    } finally {
      await stray.remove({ force: true });
    }
  });

  it("finds a replica by container id, replica id or name", async () => {
    const [d1] = replicas;
    for (const ref of [d1.runtimeRef, id("d1"), containerName(SERVICE_NAME, id("d1"))]) expect((await runtime.inspect(ref))?.runtimeRef).toBe(d1.runtimeRef);
  });

  it("a new runtime instance (panel restart) adopts the containers", async () => {
    const again = createDockerRuntime({ network: "host", portRange: RANGE });
    const listed = (await again.list()).filter((r) => r.serviceId === SERVICE_ID);
    expect(listed.map((r) => [r.replicaId, r.runtimeRef, r.dataAddr.port, r.state]).sort()).toEqual(
      replicas.map((r) => [r.replicaId, r.runtimeRef, r.dataAddr.port, "running"]).sort(),
    );
  });

  it("returns stats without waiting for Docker's stats endpoint", async () => {
    const [d1] = replicas;
    // The first look finds the container's cgroup (it may answer null while that takes more
    // than a moment on a busy machine); no call may wait for Docker's stats endpoint, whose
    // stream:false answer takes 1.5 s.
    const calls: number[] = [];
    const timed = async () => {
      const t0 = Date.now();
      const s = await runtime.stats(d1.runtimeRef);
      calls.push(Date.now() - t0);
      return s;
    };
    const first = await waitFor("a first stats value", timed, 5000);
    expect(first.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(first.memoryLimitBytes).toBe(96 * 1024 * 1024);
    const second = await timed();
    expect(second).not.toBeNull();
    expect(second!.cpuPercent).toBeGreaterThanOrEqual(0);
    console.log(
      `stats: calls took ${calls.join(", ")} ms; memory ${(second!.memoryBytes / 1048576).toFixed(1)} MiB of ${second!.memoryLimitBytes! / 1048576} MiB, cpu ${second!.cpuPercent.toFixed(1)}%`,
    );
    expect(Math.max(...calls)).toBeLessThan(1000);
  });

  it("falls back to Docker's stats endpoint, cached and refreshed in the background", async () => {
    const [d1] = replicas;
    const api = createDockerRuntime({ network: "host", portRange: RANGE, statsFrom: "api", statsRefreshMs: 200 });
    // Docker answers a one-shot stats call in up to ~1 s here; no call of ours may wait that long.
    let slowest = 0;
    const timed = async () => {
      const t0 = Date.now();
      const s = await api.stats(d1.replicaId);
      slowest = Math.max(slowest, Date.now() - t0);
      return s;
    };
    const first = await waitFor("a first API stats value", timed, 5000);
    expect(first.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(first.memoryLimitBytes).toBe(96 * 1024 * 1024);
    const later = await waitFor("a refreshed API stats value", async () => {
      const s = await timed();
      return s && s.at > first.at ? s : null;
    }, 5000);
    expect(later.cpuPercent).toBeGreaterThanOrEqual(0);
    console.log(`api stats: slowest call ${slowest} ms, refreshed after ${later.at - first.at} ms, memory ${(later.memoryBytes / 1048576).toFixed(1)} MiB`);
    expect(slowest).toBeLessThan(500);
  });

  it("returns the container's output in logs", async () => {
    const [d1] = replicas;
    const lines = await runtime.logs(d1.runtimeRef, 20);
    expect(lines.some((l) => l.includes(`replica ${id("d1")}`) && l.includes(`:${d1.dataAddr.port}`))).toBe(true);
  });

  it("stops fast (Init: true forwards SIGTERM) and emits died", async () => {
    const [, d2] = replicas;
    const graceMs = 10_000;
    const t0 = Date.now();
    await runtime.stop(d2.runtimeRef, graceMs);
    const ms = Date.now() - t0;
    console.log(`docker stop took ${ms} ms`);
    const died = await waitFor("died after stop", async () => events.find((e) => e.kind === "died" && e.replicaId === id("d2")));
    expect(died.serviceId).toBe(SERVICE_ID);
    // the replica ended on SIGTERM (exit 0), well before the grace; one that did not get
    // SIGTERM would be killed when the grace runs out (exit 137, after 10 s)
    expect(died.exitCode).toBe(0);
    expect(ms).toBeLessThan(graceMs);
    expect((await runtime.inspect(id("d2")))?.state).toBe("exited");
    await runtime.stop(d2.runtimeRef, 1000); // no-op on a stopped container
  });

  it("restarts on the same ports", async () => {
    const [, d2] = replicas;
    const restarted = await runtime.restart(id("d2"));
    expect(restarted.runtimeRef).toBe(d2.runtimeRef);
    expect(restarted.state).toBe("running");
    expect(restarted.dataAddr).toEqual(d2.dataAddr);
    const health = await waitFor("/health after restart", () => getJson(d2.dataAddr.port));
    expect(health.replica).toBe(id("d2"));
  });

  it("lists a container restarted outside the panel with its new start (list() keeps a running container's inspect only while it runs)", async () => {
    const [, d2] = replicas;
    const listedBefore = (await ours()).find((r) => r.replicaId === id("d2"));
    expect(listedBefore?.state).toBe("running");
    const restarted = await run("docker", ["restart", "-t", "1", d2.runtimeRef], 60_000);
    expect(restarted.ok).toBe(true);
    const after = await waitFor("a later start in list()", async () => (await ours()).find((r) => r.replicaId === id("d2") && r.startedAt > listedBefore!.startedAt), 30_000);
    expect(after.state).toBe("running");
  });

  it("emits died when the container is killed outside the panel (docker kill)", async () => {
    const [d1] = replicas;
    expect((await ours()).find((r) => r.replicaId === id("d1"))?.state).toBe("running"); // list() has kept its inspect
    const before = events.length;
    const t0 = Date.now();
    const killed = await run("docker", ["kill", d1.runtimeRef], 30_000);
    expect(killed.ok).toBe(true);
    const died = await waitFor("died after docker kill", async () => events.slice(before).find((e) => e.kind === "died" && e.replicaId === id("d1")));
    console.log(`died event ${Date.now() - t0} ms after docker kill`);
    expect(died.exitCode).toBe(137);
    const info = await runtime.inspect(id("d1"));
    expect(info?.state).toBe("exited");
    expect(info?.exitCode).toBe(137);
    expect(info?.reason).toMatch(/SIGKILL/);
    expect(await runtime.stats(d1.runtimeRef)).toBeNull();
    const listed = (await ours()).find((r) => r.replicaId === id("d1"));
    expect(listed?.state).toBe("exited");
    expect(listed?.exitCode).toBe(137);
  });

  it("reports an OOM kill (oom event, oomKilled, a clear reason)", async () => {
    const r = await runtime.create(spec(id("d3"), { memoryLimitMb: 64 }));
    await waitFor("/health of d3", () => getJson(r.dataAddr.port));
    const before = events.length;
    // Ask the replica to hold far more than its limit: the kernel kills it.
    await fetch(`http://127.0.0.1:${r.adminAddr.port}/admin/stress/memory`, {
      method: "POST",
      headers: { authorization: `Bearer token-${id("d3")}`, "content-type": "application/json" },
      body: JSON.stringify({ mb: 200 }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const died = await waitFor("died after OOM", async () => events.slice(before).find((e) => e.kind === "died" && e.replicaId === id("d3")));
    expect(events.slice(before).some((e) => e.kind === "oom" && e.replicaId === id("d3"))).toBe(true);
    expect(died.reason).toMatch(/out of memory/);
    const info = await runtime.inspect(id("d3"));
    expect(info?.oomKilled).toBe(true);
    expect(info?.reason).toBe("killed by the kernel: out of memory (it reached its memory limit of 64 MiB)");
  });

  it("a missing image gives a clear error", async () => {
    await expect(runtime.create(spec(id("d4"), { image: "switchyard/no-such-image:nope" }))).rejects.toMatchObject({
      code: "runtime_error",
      message: "image switchyard/no-such-image:nope is not present on the Docker engine; build it with scripts/build-replica-image.sh",
    });
  });

  it("an unreachable engine gives a clear error", async () => {
    const nowhere = createDockerRuntime({ socketPath: "/tmp/sy-no-docker-here.sock", network: "host", portRange: RANGE });
    const available = await nowhere.available();
    expect(available.ok).toBe(false);
    expect(!available.ok && available.reason).toMatch(/^cannot reach the Docker engine at unix:\/\/\/tmp\/sy-no-docker-here\.sock: ENOENT/);
    await expect(nowhere.list()).rejects.toThrow(/cannot reach the Docker engine/);
  });

  it("on a named bridge network: creates the network, uses the service's ports and the container name as address", async () => {
    // No traffic goes to the container here: bridge addresses are off limits for tests.
    const network = `sy-test-net-${RUN}`;
    await docker.getNetwork(network).remove().catch(() => undefined);
    const bridge = createDockerRuntime({ network, portRange: RANGE });
    try {
      const r = await bridge.create(spec(id("b1")));
      expect(r.dataAddr).toEqual({ host: containerName(SERVICE_NAME, id("b1")), port: 8080 });
      expect(r.adminAddr).toEqual({ host: containerName(SERVICE_NAME, id("b1")), port: 9090 });
      const info = await docker.getContainer(r.runtimeRef).inspect();
      expect(info.HostConfig.NetworkMode).toBe(network);
      expect(info.Config.Env).toEqual(expect.arrayContaining(["PORT=8080", "ADMIN_PORT=9090", "BIND_HOST=0.0.0.0"]));
      expect((await docker.getNetwork(network).inspect()).Labels).toMatchObject({ "switchyard.managed": "true" });
      await bridge.remove(r.runtimeRef);
    } finally {
      await docker.getNetwork(network).remove().catch(() => undefined);
    }
  });

  it("with a panel id, lists only that panel's containers (panels can share one engine)", async () => {
    const panelA = createDockerRuntime({ network: "host", portRange: RANGE, panelId: `pa${RUN}`.toLowerCase().replace(/[^a-z0-9]/g, "") });
    const panelB = createDockerRuntime({ network: "host", portRange: RANGE, panelId: `pb${RUN}`.toLowerCase().replace(/[^a-z0-9]/g, "") });
    const r = await panelA.create(spec(id("p1")));
    try {
      expect((await panelA.list()).map((x) => x.replicaId)).toContain(id("p1"));
      expect((await panelB.list()).map((x) => x.replicaId)).not.toContain(id("p1"));
    } finally {
      await panelA.remove(r.runtimeRef);
    }
  });

  it("removes containers", async () => {
    for (const r of await ours()) await runtime.remove(r.runtimeRef);
    expect(await ours()).toEqual([]);
    await runtime.remove(id("d1")); // idempotent
  });
});
