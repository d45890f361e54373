/**
 * The PANEL driving a Kubernetes service (experimental) against the fake API server of
 * tests/helpers/fake-kube-api.ts (127.0.0.1:16002; each pod a real replica process on a loopback
 * address of its own, 127.17.X.N, ports 16050/16051): the service is created, scaled, acted on
 * and deleted through the API route handlers with an admin session and a real SQLite database
 * (tests/helpers/controller-harness.ts), and the controller's service-level path
 * (lib/controller/cluster-sync.ts) follows the pods into the replica rows. The harness's own
 * balancer listens on 18580 (its default service has no replicas). An environment change rolls
 * the Deployment and the rollout row follows its status (KUBERNETES_PROGRESS_DEADLINE_SECONDS=5
 * so that a version whose pods never get ready stalls within seconds); Roll back is kubectl's undo.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startFakeKubeApi, type FakeKubeApi } from "../helpers/fake-kube-api";
import { waitFor } from "../helpers/load";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { clusterServiceRows, importClusterServiceRoutes, type ClusterServiceRoutes } from "../helpers/cluster-service";

const API_PORT = 16002;
const TOKEN = randomBytes(24).toString("base64url");
const NAME = "kpanel";

describe("the panel drives a Kubernetes service (fake API server)", () => {
  let fake: FakeKubeApi;
  let h: ControllerHarness;
  let serviceId = "";
  let routes: ClusterServiceRoutes & {
    rollouts: typeof import("@/app/api/services/[id]/rollouts/route");
    rolloutAction: typeof import("@/app/api/services/[id]/rollouts/[rolloutId]/[action]/route");
    traffic: typeof import("@/app/api/services/[id]/traffic/route");
  };
  type Rollout = { id: string; state: string; strategy: string; reason: string | null; toVersion: string; endedAt: string | null };
  const rollouts = async (): Promise<Rollout[]> => ((await (await h.api(routes.rollouts.GET, `/api/services/${serviceId}/rollouts`, {}, { id: serviceId })).json()) as { rollouts: Rollout[] }).rollouts;

  const { rows, readyRows } = clusterServiceRows(() => h, () => serviceId);
  const deployment = () => fake.objects("deployments").find((d) => d.metadata.labels?.["switchyard.service"] === serviceId);
  const events = async (kind: string) => (await h.m.db().event.findMany({ where: { serviceId, kind }, orderBy: { at: "asc" } })).map((e) => e.message);

  beforeAll(async () => {
    fake = await startFakeKubeApi({ port: API_PORT, token: TOKEN, ipPrefix: `127.17.${20 + (process.pid % 200)}` });
    h = await startControllerHarness({
      engine: "haproxy",
      listen: 18580,
      portRange: "16200-16299",
      service: { replicas: 0 },
      env: { KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-panel", KUBERNETES_PROGRESS_DEADLINE_SECONDS: "5" },
    });
    routes = {
      ...(await importClusterServiceRoutes()),
      rollouts: await import("@/app/api/services/[id]/rollouts/route"),
      rolloutAction: await import("@/app/api/services/[id]/rollouts/[rolloutId]/[action]/route"),
      traffic: await import("@/app/api/services/[id]/traffic/route"),
    };
  }, 120_000);

  afterAll(async () => {
    if (h && serviceId) await h.m.controller().stopServiceReplicas({ id: serviceId, name: NAME, runtime: "kubernetes" }).catch(() => undefined);
    await h?.close();
    const { forget } = await import("@/lib/remember");
    forget("cluster-kubernetes");
    await fake?.close();
  }, 60_000);

  it("creates a kubernetes service through the API; the rows follow its 3 ready pods", async () => {
    const t0 = Date.now();
    const res = await h.api(routes.services.POST, "/api/services", {
      method: "POST",
      body: { name: NAME, runtime: "kubernetes", image: "switchyard/replica:local", replicaProtocol: true, replicas: 3, dataPort: 16050, adminPort: 16051, memoryLimitMb: 128 },
    });
    const json = (await res.json()) as { service?: { id: string }; id?: string };
    expect(res.status, JSON.stringify(json)).toBe(201);
    serviceId = json.service?.id ?? json.id ?? "";
    await waitFor("3 ready rows", async () => (await readyRows()).length === 3, 30_000, 200);
    const three = await readyRows();
    console.log(`[panel-kubernetes] 3 rows ready ${Date.now() - t0} ms after create: ${three.map((r) => `${r.id}@${r.dataAddr}`).join(", ")}`);
    expect(three.every((r) => r.runtime === "kubernetes" && /^127\.17\.\d+\.\d+:16050$/.test(r.dataAddr ?? ""))).toBe(true);
    expect(deployment()?.spec.replicas).toBe(3);
    expect(deployment()?.metadata.labels?.["switchyard.service-name"]).toBe(NAME);
    // the rows are the pods: each answers on its row's address, naming its pod
    for (const r of three) {
      const answer = await fetch(`http://${r.dataAddr}/`, { signal: AbortSignal.timeout(3000) });
      await answer.arrayBuffer();
      expect(answer.status).toBe(200);
      expect(fake.objects("pods").map((p) => p.metadata.name)).toContain(answer.headers.get("x-replica"));
    }
  }, 60_000);

  it("refuses the traffic generator with the reason: the panel's listener does not front the pods", async () => {
    const res = await h.api(routes.traffic.POST, `/api/services/${serviceId}/traffic`, { method: "POST", body: { rps: 5, durationS: 5 } }, { id: serviceId });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Kubernetes.*does not front them/);
  });

  it("scales 3 -> 2 through the API: the Deployment's scale subresource, then the rows follow", async () => {
    const res = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body: { replicas: 2 } }, { id: serviceId });
    expect(res.status, await res.clone().text()).toBe(200);
    await waitFor("the Deployment at 2", () => deployment()?.spec.replicas === 2, 30_000, 200);
    await waitFor("2 rows, both ready", async () => {
      const all = await rows();
      return all.length === 2 && all.every((r) => r.state === "ready");
    }, 30_000, 200);
    expect(fake.requests.some((r) => r.method === "PUT" && r.path.endsWith(`/deployments/sy-${NAME}/scale`) && r.status === 200)).toBe(true);
    expect((await events("service.scaled")).some((m) => m.includes("kubernetes service sy-kpanel scaled 3 → 2"))).toBe(true);
  }, 60_000);

  it("each pod's memory and CPU reach the collector's ticks (the metrics API's PodMetrics), as for other runtimes", async () => {
    const { collector } = await import("@/lib/controller/collector");
    collector().start();
    try {
      const ids = (await readyRows()).map((r) => r.id);
      const tick = await waitFor("a tick with every pod's memory", () => {
        const last = collector().historyOf(serviceId, 1)[0];
        return last && ids.every((id) => last.replicas.find((r) => r.replicaId === id)?.memoryMb) ? last : null;
      }, 20_000, 250);
      for (const r of tick.replicas.filter((x) => ids.includes(x.replicaId))) {
        console.log(`[panel-kubernetes] ${r.replicaId}: ${r.memoryMb} MB, CPU ${r.cpuPercent} %`);
        expect(r.memoryMb).toBeGreaterThan(5);
        expect(r.cpuPercent).not.toBeNull();
        expect(r.memoryLimitMb).toBe(128);
      }
    } finally {
      collector().stop();
    }
  }, 60_000);

  it("a pod's management plane, its log, and what the Deployment owns refused", async () => {
    const [target] = await readyRows();
    const info = await h.api(routes.actions.POST, `/api/replicas/${target.id}/actions`, { method: "POST", body: { action: "info" } }, { id: target.id });
    expect(info.status, await info.clone().text()).toBe(200);
    const logs = await h.api(routes.logs.GET, `/api/replicas/${target.id}/logs?lines=50`, {}, { id: target.id });
    const lines = ((await logs.json()) as { lines: string[] }).lines;
    expect(lines.some((l) => l.startsWith("replica sy-kpanel-"))).toBe(true);
    const stop = await h.api(routes.actions.POST, `/api/replicas/${target.id}/actions`, { method: "POST", body: { action: "stop" } }, { id: target.id });
    expect(stop.status).toBe(409);
    expect(await stop.text()).toContain("is a Kubernetes pod: its Deployment owns it");
  }, 60_000);

  it("an environment change rolls the Deployment; the rollout row follows its status to promoted and the rows become the new pods", async () => {
    const generation = deployment()?.metadata.generation ?? 0;
    const oldIds = (await rows()).map((r) => r.id);
    const t0 = Date.now();
    const res = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body: { env: { GREETING: "v2" } } }, { id: serviceId });
    expect(res.status, await res.clone().text()).toBe(200);
    await waitFor("the Deployment's template carries the new environment", () => JSON.stringify(deployment()?.spec.template ?? {}).includes('"v2"'), 30_000, 200);
    expect(deployment()?.metadata.generation).toBeGreaterThan(generation);
    const [started] = await rollouts();
    expect(started).toMatchObject({ strategy: "rolling" });
    expect(["running", "promoted"]).toContain(started.state);
    const done = await waitFor("the rollout promoted", async () => (await rollouts()).find((r) => r.id === started.id && r.state === "promoted"), 60_000, 300);
    console.log(`[panel-kubernetes] env change rolled and promoted ${Date.now() - t0} ms after the PATCH: ${done.reason}`);
    expect(done.reason).toMatch(/2 of 2 updated, 2 available/);
    await waitFor("2 ready rows, all new pods", async () => {
      const all = await rows();
      return all.length === 2 && all.every((r) => r.state === "ready" && !oldIds.includes(r.id));
    }, 30_000, 200);
    expect((await events("rollout.started")).length).toBe(1);
    expect((await events("rollout.promoted")).length).toBe(1);
    // the panel's own canary/batch rollouts need its balancer: refused for a Deployment, with why
    const canary = await h.api(routes.rollouts.POST, `/api/services/${serviceId}/rollouts`, { method: "POST", body: { strategy: "canary", env: { GREETING: "v9" } } }, { id: serviceId });
    expect(canary.status).toBe(409);
    expect(await canary.text()).toContain("its Deployment rolls the pods");
  }, 90_000);

  it("a version whose pods never get ready stalls (reported, never promoted); Roll back re-applies the previous template and the rollout ends rolled back", async () => {
    const t0 = Date.now();
    // ERROR_RATE out of range: the replica exits at start, again after each restart; the new pod never gets ready
    const res = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body: { env: { GREETING: "v3", ERROR_RATE: "101" } } }, { id: serviceId });
    expect(res.status, await res.clone().text()).toBe(200);
    const stalled = await waitFor("the rollout stalled", async () => (await rollouts()).find((r) => r.state === "paused" && (r.reason ?? "").startsWith("stalled")), 60_000, 300);
    console.log(`[panel-kubernetes] bad version stalled ${Date.now() - t0} ms after the PATCH: ${stalled.reason}`);
    expect(stalled.reason).toMatch(/timed out progressing/);
    // the old pods keep serving (maxUnavailable 0)
    await waitFor("2 ready rows while stalled", async () => (await rows()).filter((r) => r.state === "ready").length >= 2, 30_000, 200);
    const promote = await h.api(routes.rolloutAction.POST, `/api/services/${serviceId}/rollouts/${stalled.id}/promote`, { method: "POST" }, { id: serviceId, rolloutId: stalled.id, action: "promote" });
    expect(promote.status).toBe(409);
    const t1 = Date.now();
    const back = await h.api(routes.rolloutAction.POST, `/api/services/${serviceId}/rollouts/${stalled.id}/abort`, { method: "POST" }, { id: serviceId, rolloutId: stalled.id, action: "abort" });
    expect(back.status, await back.clone().text()).toBe(200);
    const ended = await waitFor("the rollout rolled back", async () => (await rollouts()).find((r) => r.id === stalled.id && r.state === "rolled_back"), 60_000, 300);
    console.log(`[panel-kubernetes] rolled back ${Date.now() - t1} ms after Roll back: ${ended.reason}`);
    expect(ended.endedAt).not.toBeNull();
    const tpl = JSON.stringify(deployment()?.spec.template ?? {});
    expect(tpl).toContain('"v2"');
    expect(tpl).not.toContain("ERROR_RATE");
    // the service's own fields are the old version again, so the controller keeps that template
    expect((await h.m.getService(serviceId)).env).toEqual({ GREETING: "v2" });
    await waitFor("no pod of the bad version left", () => fake.objects("pods").every((p) => !JSON.stringify(p.spec).includes("ERROR_RATE")), 30_000, 200);
    expect((await events("rollout.rolled-back")).length).toBe(1);
    expect((await events("rollout.promoted")).length).toBe(1);
  }, 120_000);

  it("the nodes card's API: nodes with the pods on each; drain cordons a node and evicts its pods, the rows follow; active uncordons it", async () => {
    const nodesRoute = await import("@/app/api/cluster/nodes/route");
    const nodeRoute = await import("@/app/api/cluster/nodes/[id]/route");
    type Nodes = { kind: string | null; unavailable: string | null; nodes: { id: string; name: string; availability: string; replicas: { id: string }[] }[] };
    const list = async () => (await (await h.api(nodesRoute.GET, "/api/cluster/nodes", {})).json()) as Nodes;
    const before = await list();
    expect(before).toMatchObject({ kind: "kubernetes", unavailable: null });
    expect(before.nodes.map((n) => n.name).sort()).toEqual(["fake-node-a", "fake-node-b"]);
    expect(before.nodes.reduce((n, x) => n + x.replicas.length, 0)).toBe(2);
    // drain the node holding the most pods
    const busiest = [...before.nodes].sort((a, b) => b.replicas.length - a.replicas.length)[0];
    const other = before.nodes.find((n) => n.id !== busiest.id)!;
    const t0 = Date.now();
    const res = await h.api(nodeRoute.POST, `/api/cluster/nodes/${busiest.id}`, { method: "POST", body: { availability: "drain" } }, { id: busiest.id });
    expect(res.status, await res.clone().text()).toBe(200);
    await waitFor("2 ready rows, every pod on the other node", async () => {
      const all = await rows();
      const now = await list();
      return all.length === 2 && all.every((r) => r.state === "ready") && now.nodes.find((n) => n.id === other.id)?.replicas.length === 2;
    }, 30_000, 300);
    console.log(`[panel-kubernetes] ${busiest.name} drained (${busiest.replicas.length} pod(s) evicted): 2 ready rows on ${other.name} ${Date.now() - t0} ms later`);
    expect((await list()).nodes.find((n) => n.id === busiest.id)?.availability).toBe("drain");
    const nodeEvents = (await h.m.db().event.findMany({ where: { kind: "node.availability" } })).map((e) => e.message);
    expect(nodeEvents.some((m) => m.includes(`set node ${busiest.name} to drain (cordoned, its pods evicted)`))).toBe(true);
    const back = await h.api(nodeRoute.POST, `/api/cluster/nodes/${busiest.id}`, { method: "POST", body: { availability: "active" } }, { id: busiest.id });
    expect(back.status).toBe(200);
    expect((await list()).nodes.find((n) => n.id === busiest.id)?.availability).toBe("active");
  }, 60_000);

  it("delete: the Deployment, its Service and Secret are removed and the pods stop", async () => {
    const res = await h.api(routes.service.DELETE, `/api/services/${serviceId}`, { method: "DELETE" }, { id: serviceId });
    expect(res.status).toBe(200);
    await waitFor("no Deployment, Service or Secret left", () => fake.objects("deployments").length + fake.objects("services").length + fake.objects("secrets").length === 0, 30_000, 200);
    await waitFor("no pod left", () => fake.objects("pods").length === 0, 30_000, 200);
    serviceId = "";
  }, 60_000);
});
