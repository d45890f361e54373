/**
 * The Swarm runtime on a real 3-node swarm: scripts/swarm-bed.sh brings up three Docker
 * engines, each in a network namespace of its own (a private /24 under 10.213, made by the
 * script), and tears them down in afterAll. No port of the machine is used: the replicas
 * listen on the overlay, and their /health is read by a one-shot container on that overlay
 * (the only way to reach overlay addresses; the host cannot). Traffic goes only to the
 * addresses of the namespaces the bed made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import Docker from "dockerode";
import { createSwarmRuntime, type SwarmRuntime, type SwarmTask } from "@/lib/runtime/swarm";
import { runCommand } from "../helpers/docker-cli";
import { hasBinary, needs } from "../helpers/requirements";
import { waitFor } from "../helpers/load";
import { startSwarmLoad, swarmBed } from "../helpers/swarm-bed";

const IMAGE = "switchyard/replica:swarm-bed";
const LB_IMAGE = "switchyard/haproxy-bed:local";
const LB_PORT = 18560;
const ADMIN_RELAY_PORT = 18561;
const RUN = `${process.pid.toString(36).slice(-4)}`;
const BED_NAME = `syt${RUN}`.slice(0, 8);
const BED_NET = `10.213.${20 + (process.pid % 200)}`;
const BED_DIR = mkdtempSync(path.join(os.tmpdir(), "sybed-"));
const SERVICE_ID = `svc-swarm-${RUN}`;
const SERVICE_NAME = `sw${RUN}`;
const NETWORK = `sy-test-${RUN}`;

const bed = swarmBed({ name: BED_NAME, net: BED_NET, dir: BED_DIR, images: [IMAGE, LB_IMAGE] });

const missing = (() => {
  if (process.getuid?.() !== 0) return "root (network namespaces and dockerd)";
  return hasBinary("dockerd", ["--version"]) ?? hasBinary("nsenter", ["--version"]) ?? hasBinary("ip", ["-V"]) ?? hasBinary("haproxy", ["-v"]);
})();

/** GET /health of each address from a container on the overlay (one run, a few seconds). */
async function healthFromOverlay(manager: string, addrs: string[], port: number): Promise<{ addr: string; status: number; id: string | null }[]> {
  const script = `Promise.all(${JSON.stringify(addrs)}.map(a=>fetch("http://"+a+":${port}/health",{signal:AbortSignal.timeout(5000)}).then(async r=>({addr:a,status:r.status,id:(await r.json()).replica??null})).catch(e=>({addr:a,status:0,id:String(e.message)})))).then(r=>console.log(JSON.stringify(r)))`;
  const r = await runCommand("docker", ["-H", manager, "run", "--rm", "--network", NETWORK, "--user", "65534:65534", IMAGE, "/usr/bin/node", "-e", script], 60_000);
  if (!r.ok) throw new Error(`probe container failed: ${r.out}`);
  return JSON.parse(r.out.trim().split("\n").pop() ?? "[]");
}

/** Keep-alive GET / loops against the balancer on the manager node's bed address, bounded in time, until stop(). */
const startLoad = (host: string, concurrency: number, maxMs: number) => startSwarmLoad(host, LB_PORT, concurrency, maxMs);

/** A replica admin call through the balancer's management listener, to the task at `task`. */
function relay(host: string, task: string, method: "GET" | "POST", pathname: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> | null }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host,
        port: ADMIN_RELAY_PORT,
        method,
        path: pathname,
        timeout: 5000,
        headers: { "x-switchyard-task": task, authorization: "Bearer swarm-test-token", ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          let json: Record<string, unknown> | null = null;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            /* not JSON (HAProxy's own page) */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(data);
  });
}

describe.skipIf(needs("a 3-node swarm bed (scripts/swarm-bed.sh)", missing))("swarm runtime on a real 3-node bed", () => {
  let manager = "";
  let managerAddr = "";
  let rt: SwarmRuntime;
  const spec = {
    serviceId: SERVICE_ID,
    serviceName: SERVICE_NAME,
    image: IMAGE,
    env: {},
    dataPort: 8080,
    adminPort: 9090,
    adminToken: "swarm-test-token",
    memoryLimitMb: 128,
    cpuLimit: null,
  };

  beforeAll(async () => {
    ({ manager, managerAddr } = await bed.up(IMAGE));
    expect(manager).toMatch(/^unix:\/\//);
    expect(managerAddr.startsWith(`${BED_NET}.`)).toBe(true);
    rt = createSwarmRuntime({ socketPath: manager.slice("unix://".length), network: NETWORK, panelId: `test-${RUN}` });
  }, 400_000);

  afterAll(async () => {
    if (rt) await rt.removeService(SERVICE_ID).catch(() => undefined);
    const down = await bed.run("down");
    if (!down.ok) console.warn(`swarm-bed down: ${down.out}`);
  }, 120_000);

  it("reaches a manager of 3 ready nodes", async () => {
    expect(await rt.available()).toEqual({ ok: true });
    const nodes = await rt.nodes();
    expect(nodes.map((n) => n.hostname).sort()).toEqual([1, 2, 3].map((k) => `${BED_NAME}-n${k}`));
    expect(nodes.every((n) => n.state === "ready" && n.availability === "active")).toBe(true);
    expect(nodes.filter((n) => n.role === "manager")).toHaveLength(1);
  });

  it("creates a dnsrr service of 3 replicas across the nodes, each answering on its own overlay address", async () => {
    const t0 = Date.now();
    const created = await rt.ensureService({ ...spec, replicas: 3 });
    expect(created.created).toBe(true);
    const tasks = await rt.waitConverged(SERVICE_ID, 3, 90_000);
    console.log(`[swarm] 3 replicas running in ${Date.now() - t0} ms on ${tasks.map((t) => `${t.slot}@${t.node}`).join(", ")}`);
    expect(tasks.map((t) => t.slot).sort()).toEqual([1, 2, 3]);
    expect(new Set(tasks.map((t) => t.node)).size).toBeGreaterThanOrEqual(2);
    expect(tasks.every((t) => t.containerId && /^\d+\.\d+\.\d+\.\d+$/.test(t.address ?? ""))).toBe(true);

    const health = await healthFromOverlay(manager, tasks.map((t) => t.address!), 8080);
    expect(health.map((h) => h.status)).toEqual([200, 200, 200]);
    expect(health.map((h) => h.id).sort()).toEqual(tasks.map((t) => `sy-${SERVICE_NAME}.${t.slot}`).sort());

    // the Runtime port's view: one replica per task, addressed on the overlay
    const replicas = (await rt.list()).filter((r) => r.serviceId === SERVICE_ID);
    expect(replicas).toHaveLength(3);
    expect(replicas.every((r) => r.state === "running" && r.dataAddr.port === 8080 && r.adminAddr.port === 9090)).toBe(true);
    const one = await rt.inspect(replicas[0].runtimeRef);
    expect(one?.replicaId).toBe(replicas[0].replicaId);
  });

  it("puts HAProxy on the overlay (a Swarm service, host-mode port on the manager) reaching every task", async () => {
    const t0 = Date.now();
    expect((await rt.ensureBalancer(SERVICE_ID, { image: LB_IMAGE, publishPort: LB_PORT, adminPublishPort: ADMIN_RELAY_PORT })).created).toBe(true);
    const seen = new Set<string>();
    await waitFor(
      `the balancer at ${managerAddr}:${LB_PORT} answering from all 3 replicas`,
      async () => {
        const load = startLoad(managerAddr, 1, 2000);
        await new Promise((r) => setTimeout(r, 300));
        const res = await load.stop();
        for (const id of Object.keys(res.byReplica)) seen.add(id);
        return seen.size >= 3;
      },
      60_000,
    );
    console.log(`[swarm] balancer answering from ${[...seen].sort().join(", ")} ${Date.now() - t0} ms after create`);
    expect([...seen].sort()).toEqual([1, 2, 3].map((k) => `sy-${SERVICE_NAME}.${k}`));
  });

  it("scales 3 -> 6 -> 2 (version-checked updates) under load through the balancer, failed requests counted", async () => {
    const load = startLoad(managerAddr, 4, 150_000);
    let t0 = Date.now();
    await rt.scale(SERVICE_ID, 6);
    const six: SwarmTask[] = await rt.waitConverged(SERVICE_ID, 6, 90_000);
    console.log(`[swarm] 3 -> 6 in ${Date.now() - t0} ms: ${six.map((t) => `${t.slot}@${t.node}`).join(", ")}`);
    expect(new Set(six.map((t) => t.node)).size).toBe(3);
    await waitFor("the balancer answering from all 6 replicas", () => Object.keys(load.result.byReplica).length >= 6, 30_000, 200);
    console.log(`[swarm] balancer answering from 6 replicas ${Date.now() - t0} ms after the scale to 6`);
    t0 = Date.now();
    await rt.scale(SERVICE_ID, 2);
    const two = await rt.waitConverged(SERVICE_ID, 2, 90_000);
    console.log(`[swarm] 6 -> 2 in ${Date.now() - t0} ms: ${two.map((t) => `${t.slot}@${t.node}`).join(", ")}`);
    const health = await healthFromOverlay(manager, two.map((t) => t.address!), 8080);
    expect(health.map((h) => h.status)).toEqual([200, 200]);
    // the balancer has followed: only the two remaining tasks answer
    const after = startLoad(managerAddr, 2, 3000);
    await waitFor("the balancer answering from the 2 remaining tasks only", async () => {
      await new Promise((r) => setTimeout(r, 200));
      return Object.keys(after.result.byReplica).length >= 2;
    }, 10_000);
    const res = await load.stop();
    const tail = await after.stop();
    console.log(`[swarm] under load 3 -> 6 -> 2: ${res.ok} ok, ${res.failed} failed (${[...new Set(res.errors)].join("; ")}); per replica ${JSON.stringify(res.byReplica)}`);
    expect(Object.keys(tail.byReplica).sort()).toEqual(two.map((t) => `sy-${SERVICE_NAME}.${t.slot}`).sort());
    expect(res.ok).toBeGreaterThan(100);
    expect(Object.keys(res.byReplica).length).toBe(6);
    expect(res.failed, `failed requests: ${[...new Set(res.errors)].join("; ")}`).toBe(0);
  });

  it("drains a worker under load: its task moves to another node, the balancer follows, failed requests counted", async () => {
    const nodes = await rt.nodes();
    const workers = new Set(nodes.filter((n) => n.role === "worker").map((n) => n.id));
    const before = await rt.tasks(SERVICE_ID);
    const victim = before.find((t) => workers.has(t.nodeId));
    expect(victim, `a task on a worker among ${before.map((t) => `${t.slot}@${t.node}`).join(", ")}`).toBeDefined();
    const load = startLoad(managerAddr, 4, 120_000);
    await waitFor("load answered before the drain", () => load.result.ok >= 50, 10_000, 100);
    const t0 = Date.now();
    try {
      expect((await rt.setNodeAvailability(victim!.nodeId, "drain")).attempts).toBe(1);
      const after = await waitFor(
        `the task of ${victim!.node} running elsewhere`,
        async () => {
          const ts = await rt.waitConverged(SERVICE_ID, 2, 60_000);
          return ts.every((t) => t.nodeId !== victim!.nodeId) ? ts : null;
        },
        60_000,
        250,
      );
      const moved = Date.now() - t0;
      const expected = after.map((t) => `sy-${SERVICE_NAME}.${t.slot}`).sort();
      // the balancer follows: answers come from the tasks now running, and keep coming
      const okAt = load.result.ok;
      const tail = startLoad(managerAddr, 1, 20_000);
      await waitFor("the balancer answering from the moved task", () => expected.every((id) => tail.result.byReplica[id]), 20_000, 100);
      await tail.stop();
      await waitFor("load still answered after the move", () => load.result.ok >= okAt + 50, 10_000, 100);
      const res = await load.stop();
      console.log(
        `[swarm] drain ${victim!.node}: task ${victim!.slot} running on ${after.find((t) => t.slot === victim!.slot)?.node} ${moved} ms after; under load ${res.ok} ok, ${res.failed} failed (${[...new Set(res.errors)].join("; ")})`,
      );
      expect(after.map((t) => t.node)).not.toContain(victim!.node);
    } finally {
      await load.stop();
      await rt.setNodeAvailability(victim!.nodeId, "active");
    }
  });

  it("reaches a task on another node through the management listener while the balancer has isolated it", async () => {
    const nodes = await rt.nodes();
    const tasks = await rt.tasks(SERVICE_ID);
    const victim = tasks.find((t) => nodes.find((n) => n.id === t.nodeId)?.role === "worker")!;
    const other = tasks.find((t) => t.taskId !== victim.taskId)!;
    const victimId = `sy-${SERVICE_NAME}.${victim.slot}`;
    // an address outside the overlay is refused by the listener itself
    expect((await relay(managerAddr, "127.0.0.1", "GET", "/admin/info")).status).toBe(400);
    expect((await relay(managerAddr, victim.address!, "GET", "/admin/info")).status).toBe(200);
    const load = startLoad(managerAddr, 2, 60_000);
    try {
      const set = await relay(managerAddr, victim.address!, "POST", "/admin/faults", { failHealth: true });
      expect(set.status).toBe(200);
      // isolated: the balancer sends nothing more to it
      await waitFor(`${victimId} out of rotation`, async () => {
        const probe = startLoad(managerAddr, 1, 1500);
        await new Promise((r) => setTimeout(r, 1000));
        const res = await probe.stop();
        return res.ok > 5 && !res.byReplica[victimId] && res.byReplica[`sy-${SERVICE_NAME}.${other.slot}`] === res.ok;
      }, 20_000, 100);
      // the management path still reaches it, on its node, with stress and clear
      const cpu = await relay(managerAddr, victim.address!, "POST", "/admin/stress/cpu", { seconds: 1 });
      expect(cpu.status).toBe(200);
      const clear = await relay(managerAddr, victim.address!, "POST", "/admin/clear", {});
      expect(clear.status).toBe(200);
      expect(clear.json?.stoppedCpu).toBe(true);
      await waitFor(`${victimId} back in rotation`, () => {
        const n = load.result.byReplica[victimId] ?? 0;
        return new Promise<boolean>((r) => setTimeout(() => r((load.result.byReplica[victimId] ?? 0) > n), 500));
      }, 20_000, 100);
      const res = await load.stop();
      console.log(`[swarm] ${victimId} on ${victim.node} isolated (failHealth), stressed and cleared through the management listener; under load ${res.ok} ok, ${res.failed} failed`);
      expect(res.failed, `failed requests: ${[...new Set(res.errors)].join("; ")}`).toBe(0);
    } finally {
      await load.stop();
      await relay(managerAddr, victim.address!, "POST", "/admin/clear", {}).catch(() => undefined);
    }
  });

  it("reports an update that Swarm rolled back as rolled back, and the old tasks kept serving", async () => {
    const load = startLoad(managerAddr, 2, 90_000);
    const t0 = Date.now();
    try {
      // a command that exits at once: the new task fails within the monitor window
      await rt.updateTasks(SERVICE_ID, { command: ["/usr/bin/node", "-e", "process.exit(3)"] });
      const seen = new Set<string>();
      const end = await waitFor(
        "the update settled",
        async () => {
          const st = await rt.updateStatus(SERVICE_ID);
          seen.add(st.outcome);
          return st.outcome === "rolled-back" || st.outcome === "done" || st.outcome === "paused" ? st : null;
        },
        80_000,
        250,
      );
      const res = await load.stop();
      console.log(`[swarm] failing update: ${[...seen].join(" -> ")} after ${Date.now() - t0} ms (${end.message}); under load ${res.ok} ok, ${res.failed} failed`);
      expect(end.outcome).toBe("rolled-back");
      expect(res.failed, `failed requests: ${[...new Set(res.errors)].join("; ")}`).toBe(0);
      // a start-first rollback can leave a slot with two running tasks (moby #43081); waitConverged nudges Swarm's updater
      const tasks = await rt.waitConverged(SERVICE_ID, 2, 60_000, { onNudge: (slots) => console.log(`[swarm] after the rollback slot(s) ${slots.join(", ")} held two running tasks: nudged Swarm's updater`) });
      expect(tasks.map((t) => t.slot).sort()).toEqual([1, 2]);
      const health = await healthFromOverlay(manager, tasks.map((t) => t.address!), 8080);
      expect(health.map((h) => h.status)).toEqual([200, 200]);
    } finally {
      await load.stop();
    }
  });

  it("loses a worker (everything in its namespace killed) under load: Swarm reschedules, the balancer follows, failed requests counted", async () => {
    const nodes = await rt.nodes();
    const before = await rt.tasks(SERVICE_ID);
    const victim = before.find((t) => nodes.find((n) => n.id === t.nodeId)?.role === "worker");
    expect(victim).toBeDefined();
    const k = Number(/-n(\d)$/.exec(victim!.node)?.[1]);
    const load = startLoad(managerAddr, 4, 120_000);
    await waitFor("load answered before the node goes", () => load.result.ok >= 50, 10_000, 100);
    const t0 = Date.now();
    try {
      const killed = await bed.run("kill-node", String(k));
      expect(killed.ok, killed.out).toBe(true);
      await waitFor(`${victim!.node} seen down by the manager`, async () => (await rt.nodes()).find((n) => n.id === victim!.nodeId)?.state === "down", 60_000, 250);
      const down = Date.now() - t0;
      const after = await waitFor(
        `the task of ${victim!.node} running elsewhere`,
        async () => {
          const ts = (await rt.tasks(SERVICE_ID)).filter((t) => t.state === "running" && t.nodeId !== victim!.nodeId && t.address);
          return ts.length === 2 ? ts : null;
        },
        60_000,
        250,
      );
      const moved = Date.now() - t0;
      const expected = after.map((t) => `sy-${SERVICE_NAME}.${t.slot}`).sort();
      const tail = startLoad(managerAddr, 1, 20_000);
      await waitFor("the balancer answering from the rescheduled task", () => expected.every((id) => tail.result.byReplica[id]), 20_000, 100);
      await tail.stop();
      const res = await load.stop();
      console.log(
        `[swarm] killed ${victim!.node}: down after ${down} ms, task ${victim!.slot} running on ${after.find((t) => t.slot === victim!.slot)?.node} after ${moved} ms; under load ${res.ok} ok, ${res.failed} failed (${[...new Set(res.errors)].join("; ")})`,
      );
      expect(after.map((t) => t.node)).not.toContain(victim!.node);
    } finally {
      await load.stop();
    }
  });

  it("re-reads and retries when the version it read has gone stale", async () => {
    const r = await rt.updateService(SERVICE_ID, async (s, attempt) => {
      // on the first attempt, someone else updates the service between our read and our write
      if (attempt === 1) await rt.updateService(SERVICE_ID, (other) => ({ ...other, Labels: { ...other.Labels, "switchyard.test": "other" } }));
      return { ...s, Labels: { ...s.Labels, "switchyard.test": "ours" } };
    });
    expect(r.attempts).toBe(2);
    // what the retry is for: Swarm refuses a write with a version that is no longer the service's
    const docker = new Docker({ socketPath: manager.slice("unix://".length), version: "v1.41" });
    const [info] = await docker.listServices({ filters: { label: [`switchyard.service=${SERVICE_ID}`] } });
    expect(await rt.scale(SERVICE_ID, 2)).toEqual({ attempts: 1 });
    const stale = await docker
      .getService(info.ID)
      .update({ _query: { version: info.Version!.Index }, _body: info.Spec })
      .then(() => "accepted", (e: { statusCode?: number; message?: string }) => `${e.statusCode} ${e.message}`);
    expect(stale).toMatch(/^500 .*update out of sequence/);
  });
});
