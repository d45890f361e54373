/**
 * The PANEL driving a Kubernetes service (experimental) against the fake API server of
 * tests/helpers/fake-kube-api.ts (127.0.0.1:16002; each pod a real replica process on a loopback
 * address of its own, 127.17.X.N, ports 16050/16051): the service is created, scaled, acted on
 * and deleted through the API route handlers with an admin session and a real SQLite database
 * (tests/helpers/controller-harness.ts), and the controller's service-level path
 * (lib/controller/cluster-sync.ts) follows the pods into the replica rows. The harness's own
 * balancer listens on 18580 (its default service has no replicas).
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
  let routes: ClusterServiceRoutes;

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
      env: { KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-panel" },
    });
    routes = await importClusterServiceRoutes();
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
    // what the pods run is not rolled from the panel yet: a new image is refused, not recorded and ignored
    const generation = deployment()?.metadata.generation;
    const image = await h.api(routes.service.PATCH, `/api/services/${serviceId}`, { method: "PATCH", body: { image: "switchyard/replica:v2" } }, { id: serviceId });
    expect(image.status).toBe(409);
    expect(await image.text()).toContain("the panel cannot yet change its image, command or environment");
    expect(deployment()?.metadata.generation).toBe(generation);
  }, 60_000);

  it("delete: the Deployment, its Service and Secret are removed and the pods stop", async () => {
    const res = await h.api(routes.service.DELETE, `/api/services/${serviceId}`, { method: "DELETE" }, { id: serviceId });
    expect(res.status).toBe(200);
    await waitFor("no Deployment, Service or Secret left", () => fake.objects("deployments").length + fake.objects("services").length + fake.objects("secrets").length === 0, 30_000, 200);
    await waitFor("no pod left", () => fake.objects("pods").length === 0, 30_000, 200);
    serviceId = "";
  }, 60_000);
});
