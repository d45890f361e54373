/**
 * The PANEL driving a Swarm service on a real 3-node bed (scripts/swarm-bed.sh): the service
 * is created, scaled, acted on and deleted through the API route handlers with an admin
 * session and a real SQLite database (tests/helpers/controller-harness.ts), and the controller
 * (lib/controller/cluster-sync.ts) follows the tasks into the replica rows. Traffic goes through
 * the Swarm-hosted HAProxy published on the manager node's bed address, replica actions through
 * its management listener.
 *
 * Its own bed (namespaces syp<run>, 10.213.220-249.0/24; runtime-swarm.test.ts uses syt<run> on
 * 10.213.20-219), panel listener 127.0.0.1:18570, Swarm balancer ports 18572-18575 (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { hasBinary, needs } from "../helpers/requirements";
import { waitFor } from "../helpers/load";
import type { ControllerHarness } from "../helpers/controller-harness";
import { clusterServiceRows, importClusterServiceRoutes, type ClusterServiceRoutes } from "../helpers/cluster-service";
import { startSwarmLoad, swarmBed } from "../helpers/swarm-bed";

const IMAGE = "switchyard/replica:swarm-bed";
const LB_IMAGE = "switchyard/haproxy-bed:local";
const LISTEN = 18570;
const LB_PORT = 18572; // the first pair of SWARM_BALANCER_PORTS: traffic, then the management listener
const RUN = process.pid.toString(36).slice(-4);
const BED_NAME = `syp${RUN}`.slice(0, 8);
const BED_NET = `10.213.${220 + (process.pid % 30)}`;
const BED_DIR = mkdtempSync(path.join(os.tmpdir(), "sypbed-"));
const NAME = `pw${RUN}`;
/**
 * The service's rules, which reach the Swarm balancer: 3 retries with redispatch. A task Swarm
 * stops closes its listener at once (SIGTERM), before HAProxy's 1 s DNS refresh drops it, so a
 * request can meet several leaving tasks in a row on 6 -> 2; the panel's default of 2 retries
 * was seen to let 3 of ~3000 through as 503 there.
 */
const SWARM_RULES = { retries: { count: 3, redispatch: true } };

const bed = swarmBed({ name: BED_NAME, net: BED_NET, dir: BED_DIR, images: [IMAGE, LB_IMAGE] });

const missing = (() => {
  if (process.getuid?.() !== 0) return "root (network namespaces and dockerd)";
  return hasBinary("dockerd", ["--version"]) ?? hasBinary("nsenter", ["--version"]) ?? hasBinary("ip", ["-V"]) ?? hasBinary("haproxy", ["-v"]);
})();

/** Load through the Swarm balancer on the manager's bed address. */
const startLoad = (host: string, concurrency: number, maxMs: number) => startSwarmLoad(host, LB_PORT, concurrency, maxMs);

/** A row's task as the replica app names itself (REPLICA_ID sy-<name>.<slot>); rows are s<slot>t<task id>. */
const taskName = (rowId: string) => `sy-${NAME}.${/^s(\d+)t/.exec(rowId)?.[1] ?? "?"}`;

describe.skipIf(needs("a 3-node swarm bed (scripts/swarm-bed.sh)", missing))("the panel drives a Swarm service on a real 3-node bed", () => {
  let h: ControllerHarness;
  let managerAddr = "";
  let manager = "";
  let serviceId = "";
  let routes: ClusterServiceRoutes & { nodes: typeof import("@/app/api/cluster/nodes/route") };

  const { rows, readyRows } = clusterServiceRows(() => h, () => serviceId);
  const act = async (replicaId: string, body: Record<string, unknown>) => {
    const res = await h.api(routes.actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body }, { id: replicaId });
    const json = (await res.json()) as { result?: Record<string, unknown>; error?: { message: string } };
    expect(res.status, JSON.stringify(json)).toBe(200);
    return json.result ?? {};
  };
  const scaleTo = async (n: number) => {
    const res = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body: { replicas: n } }, { id: serviceId });
    expect(res.status, await res.clone().text()).toBe(200);
  };
  const events = async (kind: string) => (await h.m.db().event.findMany({ where: { serviceId, kind }, orderBy: { at: "asc" } })).map((e) => e.message);

  beforeAll(async () => {
    ({ manager, managerAddr, h } = await bed.upWithPanel(IMAGE, { listen: LISTEN, portRange: "18576-18579", network: `sy-pw-${RUN}`, balancerPorts: "18572-18575", balancerImage: LB_IMAGE }));
    routes = { ...(await importClusterServiceRoutes()), nodes: await import("@/app/api/cluster/nodes/route") };
  }, 400_000);

  afterAll(async () => {
    if (h && serviceId) await h.m.controller().stopServiceReplicas({ id: serviceId, name: NAME, runtime: "swarm" }).catch(() => undefined);
    await h?.close();
    const { forget } = await import("@/lib/remember");
    for (const k of ["runtime-swarm", "runtime-swarm-adapter", "cluster-swarm", "cluster-swarm-balancer"]) forget(k);
    const down = await bed.run("down");
    if (!down.ok) console.warn(`swarm-bed down: ${down.out}`);
  }, 120_000);

  it("creates a swarm service through the API; the rows follow its 3 tasks and its balancer answers from each", async () => {
    const t0 = Date.now();
    const res = await h.api(routes.services.POST, "/api/services", { method: "POST", body: { name: NAME, runtime: "swarm", image: IMAGE, replicaProtocol: true, replicas: 3, dataPort: 8080, adminPort: 9090, memoryLimitMb: 128, rules: SWARM_RULES } });
    const json = (await res.json()) as { service?: { id: string }; id?: string };
    expect(res.status, JSON.stringify(json)).toBe(201);
    serviceId = json.service?.id ?? json.id ?? "";
    await waitFor("3 ready rows", async () => (await readyRows()).length === 3, 90_000, 250);
    const three = await readyRows();
    console.log(`[panel-swarm] 3 rows ready ${Date.now() - t0} ms after create: ${three.map((r) => `${r.id}@${r.dataAddr}`).join(", ")}`);
    expect(three.every((r) => r.runtime === "swarm" && /^\d+\.\d+\.\d+\.\d+:8080$/.test(r.dataAddr ?? ""))).toBe(true);
    // the management path: every row's admin address is the balancer's management listener on the manager
    await waitFor("every row's admin address the management listener", async () => (await rows()).every((r) => r.adminAddr === `${managerAddr}:${LB_PORT + 1}`), 60_000, 250);
    expect((await events("replica.created")).length).toBeGreaterThanOrEqual(3);
    const seen = new Set<string>();
    await waitFor(`the Swarm balancer at ${managerAddr}:${LB_PORT} answering from all 3 tasks`, async () => {
      const load = startLoad(managerAddr, 1, 1500);
      await new Promise((r) => setTimeout(r, 300));
      for (const id of Object.keys((await load.stop()).byReplica)) seen.add(id);
      return seen.size >= 3;
    }, 90_000);
    expect([...seen].sort()).toEqual(three.map((r) => taskName(r.id)).sort());
    console.log(`[panel-swarm] balancer answering from 3 tasks ${Date.now() - t0} ms after create`);
  }, 200_000);

  it("scales 3 -> 6 -> 2 through the API under load; rows and balancer follow; failed requests counted", async () => {
    const load = startLoad(managerAddr, 4, 200_000);
    let t0 = Date.now();
    await scaleTo(6);
    await waitFor("6 ready rows", async () => (await readyRows()).length === 6, 90_000, 250);
    const six = await readyRows();
    console.log(`[panel-swarm] 3 -> 6: 6 rows ready in ${Date.now() - t0} ms`);
    await waitFor("the balancer answering from all 6 tasks", () => six.every((r) => load.result.byReplica[taskName(r.id)] > 0), 60_000, 200);
    console.log(`[panel-swarm] balancer answering from 6 tasks ${Date.now() - t0} ms after the scale to 6`);
    t0 = Date.now();
    await scaleTo(2);
    await waitFor("2 rows left", async () => (await rows()).length === 2, 90_000, 250);
    const two = await readyRows();
    expect(two).toHaveLength(2);
    console.log(`[panel-swarm] 6 -> 2: 2 rows in ${Date.now() - t0} ms (${two.map((r) => r.id).join(", ")})`);
    const t1 = Date.now();
    const gone = six.map((r) => taskName(r.id)).filter((id) => !two.some((r) => taskName(r.id) === id));
    await waitFor("no request answered by a removed task for 2 s", () => gone.every((id) => (load.result.lastAt[id] ?? 0) < Date.now() - 2000), 30_000, 200);
    const res = await load.stop();
    console.log(`[panel-swarm] under load 3 -> 6 -> 2: ${res.ok} ok, ${res.failed} failed (${[...new Set(res.errors)].join("; ")}); balancer settled ${Date.now() - t1} ms after the rows; per task ${JSON.stringify(res.byReplica)}`);
    expect((await events("service.scaled")).some((m) => m.includes("3 → 6")) && (await events("service.scaled")).some((m) => m.includes("6 → 2"))).toBe(true);
    expect(res.ok).toBeGreaterThan(100);
    expect(res.failed, `failed requests: ${[...new Set(res.errors)].join("; ")}`).toBe(0);
  }, 300_000);

  it("a worker node killed: its task is rescheduled, the rows and the balancer follow; failed requests counted", async () => {
    const cluster = (await import("@/lib/runtime/registry")).clusterFor("swarm");
    const nodes = await cluster.nodes!();
    const members = await cluster.members(serviceId);
    const workers = nodes.filter((n) => n.role === "worker");
    const victimNode = workers.find((n) => members.some((m) => m.node === n.name)) ?? workers[0];
    const victims = members.filter((m) => m.node === victimNode.name).map((m) => m.id);
    const k = victimNode.name.split("-n").pop() ?? "";
    const load = startLoad(managerAddr, 4, 200_000);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const killed = await bed.run("kill-node", k);
    expect(killed.ok, killed.out).toBe(true);
    let detectedMs = -1;
    await waitFor(`the rows of ${victimNode.name}'s tasks (${victims.join(", ") || "none"}) gone and 2 ready rows elsewhere`, async () => {
      const now = await rows();
      if (detectedMs < 0 && victims.every((id) => !now.some((r) => r.id === id))) detectedMs = Date.now() - t0;
      return detectedMs >= 0 && now.filter((r) => r.state === "ready").length === 2;
    }, 120_000, 250);
    const rescheduledMs = Date.now() - t0;
    const after = await readyRows();
    await waitFor("the balancer answering from both rescheduled-or-kept tasks", () => after.every((r) => (load.result.lastAt[taskName(r.id)] ?? 0) > t0 + rescheduledMs - 1), 60_000, 200);
    const res = await load.stop();
    const moved = await events("replica.moved");
    console.log(`[panel-swarm] node ${victimNode.name} killed with ${victims.length} task(s): rows dropped after ${detectedMs} ms, 2 ready rows after ${rescheduledMs} ms, balancer answering from both after ${Date.now() - t0} ms; ${res.ok} ok, ${res.failed} failed (${[...new Set(res.errors)].join("; ")}); events: ${moved.join(" | ")}`);
    expect(victims.length === 0 || moved.length > 0).toBe(true);
    expect((await cluster.members(serviceId)).every((m) => m.node !== victimNode.name)).toBe(true);
    // the nodes route: the killed node down, the service's two replicas on the others
    const nodesRes = await h.api(routes.nodes.GET, "/api/cluster/nodes");
    const view = (await nodesRes.json()) as { nodes: { name: string; state: string; replicas: { id: string }[] }[] };
    expect(view.nodes.find((n) => n.name === victimNode.name)?.state).toBe("down");
    expect(view.nodes.flatMap((n) => n.replicas.map((r) => r.id)).sort()).toEqual(after.map((r) => r.id).sort());
  }, 300_000);

  it("stress and clear reach an isolated task on another node through the management listener", async () => {
    const cluster = (await import("@/lib/runtime/registry")).clusterFor("swarm");
    const managerName = (await cluster.nodes!()).find((n) => n.role === "manager")?.name;
    const members = await cluster.members(serviceId);
    const target = members.find((m) => m.node !== managerName && m.ready) ?? members[0];
    console.log(`[panel-swarm] target ${target.id} on ${target.node} (manager ${managerName})`);
    // isolate it: its /health fails, the Swarm balancer takes it out of rotation
    await act(target.id, { action: "faults", failHealth: true });
    const load = startLoad(managerAddr, 2, 120_000);
    const t0 = Date.now();
    await waitFor("the balancer sending it nothing for 2 s", () => Date.now() - t0 > 2000 && (load.result.lastAt[taskName(target.id)] ?? 0) < Date.now() - 2000, 30_000, 200);
    console.log(`[panel-swarm] isolated in ${Date.now() - t0 - 2000} ms (no request answered by it since)`);
    const stressed = await act(target.id, { action: "stress-cpu", seconds: 30 });
    expect(typeof stressed.cpuUntil).toBe("string");
    const info = (await act(target.id, { action: "info" })) as { replica?: string; stress?: { cpuUntil: string | null }; faults?: { failHealth?: boolean } };
    expect(info.replica).toBe(taskName(target.id));
    expect(info.stress?.cpuUntil).toBe(stressed.cpuUntil);
    const cleared = (await act(target.id, { action: "clear" })) as { stoppedCpu?: boolean };
    expect(cleared.stoppedCpu).toBe(true);
    const after = (await act(target.id, { action: "info" })) as { stress?: { cpuUntil: string | null }; faults?: { failHealth?: boolean } };
    expect(after.stress?.cpuUntil).toBeNull();
    const t1 = Date.now();
    await waitFor("the balancer sending it requests again", () => (load.result.lastAt[taskName(target.id)] ?? 0) > t1, 30_000, 200);
    const res = await load.stop();
    console.log(`[panel-swarm] stress + clear on isolated ${target.id} (${target.node}) answered; back in rotation ${Date.now() - t1} ms after clear; ${res.ok} ok, ${res.failed} failed during it`);
    // the live figures: the Swarm balancer's per-server counters mapped onto this task's row, its memory through the management path
    const { swarmServiceFigures } = await import("@/lib/controller/cluster-stats");
    const svcRow = await h.m.db().service.findUniqueOrThrow({ where: { id: serviceId }, include: { instances: true } });
    const figures = await swarmServiceFigures(svcRow, 5000);
    const mine = figures.servers.find((s) => s.server === `r-${target.id}`);
    console.log(`[panel-swarm] figures: ${figures.servers.map((s) => `${s.server} ${s.totalRequests} req ${s.health.status}`).join(", ")}; ${target.id} memory ${((figures.runtime.get(target.id)?.memoryBytes ?? 0) / 1048576).toFixed(1)} MB`);
    expect(figures.servers).toHaveLength(svcRow.instances.length);
    expect(mine?.totalRequests ?? 0).toBeGreaterThan(0);
    expect(figures.runtime.get(target.id)?.memoryBytes ?? 0).toBeGreaterThan(1048576);
    // its log, through the manager (the Engine API's task logs), by the API's logs route
    const logs = await h.api(routes.logs.GET, `/api/replicas/${target.id}/logs?lines=50`, {}, { id: target.id });
    const lines = ((await logs.json()) as { lines: string[] }).lines;
    expect(lines.some((l) => l.includes(`replica ${taskName(target.id)} `))).toBe(true);
    // a Swarm task refuses what Swarm owns
    const stop = await h.api(routes.actions.POST, `/api/replicas/${target.id}/actions`, { method: "POST", body: { action: "stop" } }, { id: target.id });
    expect(stop.status).toBe(409);
  }, 200_000);

  it("delete: the Swarm service and its balancer are removed", async () => {
    const res = await h.api(routes.service.DELETE, `/api/services/${serviceId}`, { method: "DELETE" }, { id: serviceId });
    expect(res.status).toBe(200);
    const Docker = (await import("dockerode")).default;
    const docker = new Docker({ socketPath: manager.slice("unix://".length) });
    await waitFor("no swarm service of the panel left", async () => (await docker.listServices({ filters: { label: ["switchyard.managed=true"] } })).length === 0, 60_000, 250);
    serviceId = "";
  }, 100_000);
});
