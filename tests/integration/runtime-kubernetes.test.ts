/**
 * The Kubernetes runtime (experimental) against the FAKE API server of
 * tests/helpers/fake-kube-api.ts: a real HTTP server on 127.0.0.1:16000 that runs each pod as
 * a real replica process on a loopback address of its own (127.16.X.N, data port 16050,
 * admin port 16051), so endpoint readiness comes from the replicas' real /health. There is
 * no Kubernetes distribution here: this shows the adapter speaks the API as documented, not
 * that it has run against a real cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startFakeKubeApi, type FakeKubeApi } from "../helpers/fake-kube-api";
import { until, waitFor } from "../helpers/load";
import { createKubernetesRuntime, kubernetesCluster, type KubeChange, type KubernetesRuntime } from "@/lib/runtime/kubernetes";
import { kubernetesClusterRuntime } from "@/lib/runtime/registry";
import { kubernetesConfig } from "@/lib/runtime/kubernetes-api";
import type { RuntimeEvent } from "@/lib/runtime/types";
import type { KubeReplica } from "@/lib/core/kubernetes";

const API_PORT = 16000;
const TLS_API_PORT = 16001;
const DATA_PORT = 16050;
const ADMIN_PORT = 16051;
// a second fake without a metrics API, its pod on 127.18.X.N
const BARE_API_PORT = 16300;
const BARE_DATA_PORT = 13000;
const BARE_ADMIN_PORT = 13001;
const TOKEN = randomBytes(24).toString("base64url");
const SERVICE_ID = `svc-k8s-${process.pid.toString(36)}`;
const SERVICE_NAME = "kweb";
const ADMIN_TOKEN = randomBytes(16).toString("hex");

let fake: FakeKubeApi;
let kube: KubernetesRuntime;
const events: RuntimeEvent[] = [];
const changes: KubeChange[] = [];
const unsubscribe: (() => void)[] = [];

const spec = (replicas: number) => ({
  serviceId: SERVICE_ID,
  serviceName: SERVICE_NAME,
  image: "switchyard/replica:local",
  env: { GREETING: "hello" },
  dataPort: DATA_PORT,
  adminPort: ADMIN_PORT,
  adminToken: ADMIN_TOKEN,
  memoryLimitMb: 256,
  cpuLimit: 0.5,
  replicas,
});

async function answers(r: KubeReplica): Promise<string | null> {
  try {
    const res = await fetch(`http://${r.address}:${r.dataPort}/`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200 ? res.headers.get("x-replica") : null;
  } catch {
    return null;
  }
}

beforeAll(async () => {
  fake = await startFakeKubeApi({ port: API_PORT, token: TOKEN });
  const config = kubernetesConfig({ KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-test" });
  kube = createKubernetesRuntime({ config: config!, panelId: "panel-k8s-test", drainSeconds: 2, graceSeconds: 6 });
  unsubscribe.push(kube.onEvent((e) => events.push(e)));
  unsubscribe.push(kube.onChange((c) => changes.push(c)));
});

afterAll(async () => {
  for (const u of unsubscribe) u();
  await kube?.removeService(SERVICE_ID).catch(() => undefined);
  kube?.close();
  await fake?.close();
});

describe("Kubernetes runtime against the fake API server", () => {
  it("creates a Deployment whose 3 pods become 3 ready endpoints that serve traffic", async () => {
    const avail = await kube.available();
    expect(avail).toEqual({ ok: true, version: "v1.30.0+switchyard-fake" });
    const t0 = Date.now();
    expect(await kube.ensureService(spec(3))).toMatchObject({ name: "sy-kweb", created: true });
    const ready = await kube.waitReady(SERVICE_ID, 3, 30_000);
    console.log(`3 ready endpoints ${Date.now() - t0} ms after create`);
    const d = fake.objects("deployments")[0];
    expect(d.metadata.labels).toMatchObject({ "switchyard.managed": "true", "switchyard.service": SERVICE_ID, "switchyard.service-name": SERVICE_NAME, "switchyard.panel": "panel-k8s-test" });
    // the admin token is in a Secret, not in the Deployment's spec
    expect(JSON.stringify(d)).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(d)).toContain('"secretKeyRef":{"name":"sy-kweb-admin","key":"ADMIN_TOKEN"}');
    expect(new Set(ready.map((r) => r.address)).size).toBe(3);
    for (const r of ready) {
      expect(r).toMatchObject({ state: "ready", dataPort: DATA_PORT, adminPort: ADMIN_PORT, phase: "Running", restarts: 0 });
      expect(r.node).toMatch(/^fake-node-/);
      // a real replica answers on the endpoint's address, naming its pod (REPLICA_ID from metadata.name)
      expect(await answers(r)).toBe(r.pod);
      // the management plane, with the token the pod read from the Secret
      const info = await fetch(`http://${r.address}:${r.adminPort}/admin/info`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(3000) });
      expect(info.status).toBe(200);
      await info.arrayBuffer();
    }
    const listed = await kube.list();
    expect(listed.map((r) => r.replicaId).sort()).toEqual(ready.map((r) => r.pod));
    expect(listed.every((r) => r.serviceId === SERVICE_ID && r.state === "running")).toBe(true);
    // a second ensure updates, and keeps the replica count (scale owns it)
    expect(await kube.ensureService(spec(7))).toMatchObject({ name: "sy-kweb", created: false });
    expect(fake.objects("deployments")[0].spec.replicas).toBe(3);
    // the same through the service-level port (lib/runtime/cluster.ts)
    const cluster = kubernetesCluster(kube);
    expect(await cluster.available()).toEqual({ ok: true });
    expect(await cluster.status(SERVICE_ID)).toEqual({ desired: 3 });
    expect(await cluster.status("no-such-service")).toEqual({ desired: null });
    const members = await cluster.members(SERVICE_ID);
    expect(members.map((m) => [m.ref, m.state, m.ready, m.serving, m.slot])).toEqual(ready.map((r) => [r.pod, "running", true, true, null]));
    for (const m of members) expect(m.id).toMatch(/^k[a-z0-9]{1,39}$/);
    expect(new Set(members.map((m) => m.id)).size).toBe(3);
    expect(members[0].dataAddr).toEqual({ host: ready[0].address, port: DATA_PORT });
    const nodes = await cluster.nodes!();
    expect(nodes.map((n) => [n.name, n.role, n.state, n.availability])).toEqual([
      ["fake-node-a", "control-plane", "ready", "active"],
      ["fake-node-b", "worker", "ready", "active"],
    ]);
    for (const m of members) expect(nodes.map((n) => n.name)).toContain(m.node);
    // a pod's log through pods/{name}/log: the replica's own start line, naming the pod
    const logs = await cluster.memberLogs!(SERVICE_ID, ready[0].pod, 20);
    expect(logs.some((l) => l.includes(ready[0].pod))).toBe(true);
    await expect(cluster.memberLogs!("other-service", ready[0].pod, 20)).rejects.toThrow(/no pod/);
  });

  it("per-pod CPU and memory from the metrics API (PodMetrics from each replica process's /proc); no metrics API: none, not zeros", async () => {
    const pods = await kube.waitReady(SERVICE_ID, 3, 30_000);
    for (const r of pods) {
      const st = await until(`metrics of ${r.pod}`, () => kube.stats(r.pod), (s) => s !== null, 10_000, 200);
      const pid = fake.pidOf(r.pod)!;
      const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      console.log(`${r.pod}: ${(st!.memoryBytes / 1048576).toFixed(1)} MiB (its process now ${(rssKb / 1024).toFixed(1)} MiB), CPU ${st!.cpuPercent.toFixed(1)} %`);
      // the figure is the process's own resident memory, read at most a second apart
      expect(st!.memoryBytes / 1024).toBeGreaterThan(rssKb * 0.5);
      expect(st!.memoryBytes / 1024).toBeLessThan(rssKb * 2);
      expect(st!.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(st!.memoryLimitEnforced).toBe(true);
    }
    // one list per second serves every pod's call
    const lists = fake.requests.filter((x) => x.path.startsWith("/apis/metrics.k8s.io/")).length;
    await Promise.all(pods.map((r) => kube.stats(r.pod)));
    expect(fake.requests.filter((x) => x.path.startsWith("/apis/metrics.k8s.io/")).length - lists).toBeLessThanOrEqual(1);
    expect(await kube.stats("no-such-pod")).toBeNull();

    // a cluster without metrics-server: its API answers 404 there, and a pod has no figures (the card says "no metrics")
    const bare = await startFakeKubeApi({ port: BARE_API_PORT, token: TOKEN, ipPrefix: `127.18.${20 + (process.pid % 200)}`, metrics: false });
    const bareKube = createKubernetesRuntime({ config: kubernetesConfig({ KUBERNETES_API: bare.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-bare" })!, drainSeconds: 1, graceSeconds: 3 });
    try {
      await bareKube.ensureService({ ...spec(1), dataPort: BARE_DATA_PORT, adminPort: BARE_ADMIN_PORT });
      const [one] = await bareKube.waitReady(SERVICE_ID, 1, 30_000);
      expect(await bareKube.stats(one.pod)).toBeNull();
      expect(bare.requests.some((x) => x.path.startsWith("/apis/metrics.k8s.io/") && x.status === 404)).toBe(true);
      await bareKube.removeService(SERVICE_ID);
      await until("the bare fake's pod gone", () => bare.objects("pods").length, (n) => n === 0, 20_000);
    } finally {
      bareKube.close();
      await bare.close();
    }
  });

  it("scales 3 -> 5 -> 2 through the scale subresource; a 409 Conflict is re-read and retried", async () => {
    fake.interfereOnScaleRead(1);
    const up = await kube.scale(SERVICE_ID, 5);
    console.log(`scale 3 -> 5: ${up.attempts} attempts, ${up.conflicts} conflict(s)`);
    expect(up).toEqual({ attempts: 2, conflicts: 1 });
    const conflicts = fake.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/scale") && r.status === 409);
    expect(conflicts).toHaveLength(1);
    await kube.waitReady(SERVICE_ID, 5, 30_000);
    const down = await kube.scale(SERVICE_ID, 2);
    console.log(`scale 5 -> 2: ${down.attempts} attempt(s)`);
    expect(down.attempts).toBe(1);
    const two = await kube.waitReady(SERVICE_ID, 2, 30_000);
    for (const r of two) expect(await answers(r)).toBe(r.pod);
    // a conflict on every attempt gives up with the API's message, after maxScaleAttempts
    fake.interfereOnScaleRead(8);
    await expect(kube.scale(SERVICE_ID, 3)).rejects.toThrow(/409 Conflict: Operation cannot be fulfilled/);
  });

  it("a pod's process killed: the watch tells it died, the container is started again and the replica is back in rotation", async () => {
    const [victim] = await kube.waitReady(SERVICE_ID, 2, 30_000);
    const pid = fake.pidOf(victim.pod)!;
    expect(pid).toBeGreaterThan(0);
    const seen = events.length;
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    const died = await waitFor("a died event for the killed pod", () => events.slice(seen).find((e) => e.kind === "died" && e.replicaId === victim.pod), 15_000);
    console.log(`died event ${Date.now() - t0} ms after SIGKILL: ${died.reason}`);
    expect(died.serviceId).toBe(SERVICE_ID);
    expect(died.reason).toMatch(/exit code 137/);
    const back = await until(
      "the killed pod ready again with one restart",
      async () => (await kube.replicas(SERVICE_ID)).find((r) => r.pod === victim.pod),
      (r) => r?.state === "ready" && r.restarts === 1,
      20_000,
    );
    console.log(`back in rotation ${Date.now() - t0} ms after SIGKILL (lastExit ${back?.lastExit})`);
    expect(fake.pidOf(victim.pod)).not.toBe(pid);
    expect(await answers(back!)).toBe(victim.pod);
  });

  it("a deleted pod's endpoint shows draining (terminating, still serving) until it stops, and a new pod replaces it", async () => {
    const [victim] = await kube.waitReady(SERVICE_ID, 2, 30_000);
    const seen = events.length;
    await kube.deletePod(SERVICE_ID, victim.pod);
    const draining = await until("the deleted pod draining", async () => (await kube.replicas(SERVICE_ID)).find((r) => r.pod === victim.pod), (r) => r?.state === "draining", 10_000);
    expect(draining).toMatchObject({ terminating: true, ready: false, serving: true });
    const member = (await kubernetesCluster(kube).members(SERVICE_ID)).find((m) => m.ref === victim.pod);
    expect(member).toMatchObject({ state: "stopping", ready: false, serving: true });
    // during its preStop pause it still answers
    expect(await answers(draining!)).toBe(victim.pod);
    const listed = await kube.list();
    expect(listed.find((r) => r.replicaId === victim.pod)?.reason).toBe("terminating (draining)");
    const after = await kube.waitReady(SERVICE_ID, 2, 30_000);
    expect(after.map((r) => r.pod)).not.toContain(victim.pod);
    await waitFor("started and deleted events", () => events.slice(seen).some((e) => e.kind === "started") && events.slice(seen).some((e) => e.kind === "died" && e.reason === "pod deleted" && e.replicaId === victim.pod), 10_000);
    expect(changes.some((c) => c.kind === "endpointslice" && c.serviceId === SERVICE_ID)).toBe(true);
  });

  it("410 Gone on a watch: the runtime relists and keeps following", async () => {
    const before = kube.watchStats();
    fake.expire();
    await waitFor("relists after 410", () => kube.watchStats().relists >= before.relists + 2 && kube.watchStats().gone >= before.gone + 2, 10_000);
    const seen = events.length;
    await kube.scale(SERVICE_ID, 3);
    const started = await waitFor("a started event after the relist", () => events.slice(seen).find((e) => e.kind === "started"), 15_000);
    await kube.waitReady(SERVICE_ID, 3, 30_000);
    const st = kube.watchStats();
    console.log(`watch stats: ${JSON.stringify(st)}; started ${started.replicaId}`);
    expect(st.relists).toBeGreaterThanOrEqual(2);
  });

  it("a rolling update: a new template replaces the pods one at a time (maxSurge 1, maxUnavailable 0); a pod that never gets ready stalls it; rollback re-applies the previous ReplicaSet's template", async () => {
    const cluster = kubernetesCluster(kube);
    const liveHashes = () => [...new Set(fake.objects("pods").filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.labels?.["pod-template-hash"]))];
    const rsByRevision = () => Object.fromEntries(fake.objects("replicasets").map((rs) => [rs.metadata.annotations?.["deployment.kubernetes.io/revision"], rs]));
    // the status follows the pods on the controller's next pass
    const rev1 = (await until("the Deployment's status done", () => kube.rollout(SERVICE_ID), (r) => r.outcome === "done", 10_000)).revision!;
    expect(rev1).toBeGreaterThanOrEqual(1);
    const oldPods = (await kube.replicas(SERVICE_ID)).map((r) => r.pod);
    // the same template again changes nothing (no new generation, no new ReplicaSet)
    const gen = fake.objects("deployments")[0].metadata.generation;
    await kube.ensureService(spec(3));
    expect(fake.objects("deployments")[0].metadata.generation).toBe(gen);

    // a good new version: the environment changes
    const t0 = Date.now();
    await kube.ensureService({ ...spec(3), env: { GREETING: "hello-v2" } });
    let maxUp = 0;
    let minReady = 3;
    const done = await until(
      "the rolling update done",
      async () => {
        const rs = await kube.replicas(SERVICE_ID);
        maxUp = Math.max(maxUp, rs.filter((r) => r.state !== "draining").length);
        minReady = Math.min(minReady, rs.filter((r) => r.state === "ready").length);
        return kube.rollout(SERVICE_ID);
      },
      (r) => r.outcome === "done" && r.revision === rev1 + 1,
      60_000,
      100,
    );
    console.log(`good update: done in ${Date.now() - t0} ms (${done.message}); pods not terminating at most ${maxUp}, ready at least ${minReady} of 3 (printed: readiness under load)`);
    expect(done).toMatchObject({ desired: 3, updated: 3, available: 3, total: 3 });
    expect(done.observedGeneration).toBe(done.generation);
    // maxSurge 1: never more than 4 pods that are not terminating
    expect(maxUp).toBeLessThanOrEqual(4);
    const good = rsByRevision()[String(rev1 + 1)];
    await until("only the new template's pods left", () => liveHashes(), (h) => h.length === 1 && h[0] === good.metadata.labels?.["pod-template-hash"], 30_000);
    const after = await kube.waitReady(SERVICE_ID, 3, 30_000);
    for (const r of after) expect(oldPods).not.toContain(r.pod);
    for (const r of after) expect(await answers(r)).toBe(r.pod);
    expect(rsByRevision()[String(rev1)].spec.replicas).toBe(0);
    expect(await cluster.status(SERVICE_ID)).toMatchObject({ desired: 3, update: { outcome: "done" } });

    // a bad version: its pod never gets ready (/health 503: memory above 1 % of its limit); a short progress deadline
    const strict = createKubernetesRuntime({ config: kubernetesConfig({ KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-test" })!, panelId: "panel-k8s-test", drainSeconds: 2, graceSeconds: 6, progressDeadlineSeconds: 3 });
    try {
      await strict.ensureService({ ...spec(3), env: { GREETING: "hello-v3", MEMORY_THRESHOLD_PERCENT: "1" } });
      const t1 = Date.now();
      const stalled = await until("the bad update stalled", () => kube.rollout(SERVICE_ID), (r) => r.outcome === "stalled", 30_000, 200);
      console.log(`bad update: stalled after ${Date.now() - t1} ms: ${stalled.message}`);
      expect(stalled).toMatchObject({ revision: rev1 + 2, updated: 1, desired: 3 });
      expect(stalled.message).toMatch(/ProgressDeadlineExceeded|timed out progressing/);
      expect(await cluster.status(SERVICE_ID)).toMatchObject({ update: { outcome: "stalled" } });
      // maxUnavailable 0: the three pods of the good version still serve
      const serving = await until("the good version's 3 pods ready", () => kube.replicas(SERVICE_ID), (rs) => rs.filter((r) => r.state === "ready").length === 3, 15_000);
      expect(serving.filter((r) => r.state === "ready").every((r) => after.some((a) => a.pod === r.pod))).toBe(true);

      // rollback: kubectl's undo, the previous ReplicaSet's template written back
      const back = await kube.rollback(SERVICE_ID);
      expect(back).toEqual({ toRevision: rev1 + 1, fromRevision: rev1 + 2 });
      const t2 = Date.now();
      const rolled = await until("rolled back and done", () => kube.rollout(SERVICE_ID), (r) => r.outcome === "done" && r.revision === rev1 + 3, 30_000, 200);
      console.log(`rollback: done in ${Date.now() - t2} ms: ${rolled.message}`);
      // the good ReplicaSet again (revision rev1 + 3 now), the bad one at 0 and its pod gone
      expect(rsByRevision()[String(rev1 + 3)].metadata.name).toBe(good.metadata.name);
      await until("only the good template's pods left", () => liveHashes(), (h) => h.length === 1 && h[0] === good.metadata.labels?.["pod-template-hash"], 30_000);
      const d = fake.objects("deployments")[0];
      expect(JSON.stringify(d.spec.template)).toContain("hello-v2");
      expect(JSON.stringify(d.spec.template)).not.toContain("MEMORY_THRESHOLD_PERCENT");
      // nothing older than the current revision's predecessor is lost: a second undo would go to the bad one (revision rev1 + 2)
    } finally {
      strict.close();
    }
  });

  it("a node drained: cordoned, the panel's pods on it evicted through the Eviction API and started on the other node; active again: uncordoned", async () => {
    const nodes = await kube.nodes();
    const b = nodes.find((n) => n.name === "fake-node-b")!;
    const onB = (await kube.replicas(SERVICE_ID)).filter((r) => r.node === "fake-node-b").map((r) => r.pod);
    const t0 = Date.now();
    const r = await kube.setNodeAvailability(b.id, "drain");
    expect(r.evicted.sort()).toEqual(onB.sort());
    expect(fake.requests.filter((x) => x.method === "POST" && x.path.endsWith("/eviction") && x.status === 201)).toHaveLength(onB.length);
    expect((await kube.nodes()).find((n) => n.name === "fake-node-b")?.availability).toBe("drain");
    const moved = await until("3 ready pods, none on the drained node", () => kube.replicas(SERVICE_ID), (rs) => rs.length === 3 && rs.every((x) => x.state === "ready" && x.node === "fake-node-a"), 30_000, 200);
    console.log(`drain: ${onB.length} pod(s) evicted from fake-node-b, 3 ready on fake-node-a ${Date.now() - t0} ms later`);
    for (const x of moved) expect(onB).not.toContain(x.pod);
    await kube.setNodeAvailability(b.id, "active");
    expect((await kube.nodes()).find((n) => n.name === "fake-node-b")?.availability).toBe("active");
    await expect(kube.setNodeAvailability("no-such-node", "drain")).rejects.toThrow(/no node/);
  });

  it("a bad token is a clear error", async () => {
    const config = kubernetesConfig({ KUBERNETES_API: fake.url, KUBERNETES_TOKEN: "wrong-token", KUBERNETES_NAMESPACE: "sy-test" });
    const bad = createKubernetesRuntime({ config: config! });
    try {
      const avail = await bad.available();
      expect(avail.ok).toBe(false);
      expect(!avail.ok && avail.reason).toMatch(/refused the token \(401 Unauthorized\).*KUBERNETES_TOKEN/);
      await expect(bad.scale(SERVICE_ID, 1)).rejects.toThrow(/refused the token \(401 Unauthorized\)/);
    } finally {
      bad.close();
    }
  });

  it("https with KUBERNETES_CA_FILE: the API's certificate is checked against that CA (without it, refused)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sy-k8s-tls-"));
    const key = path.join(dir, "api.key");
    const cert = path.join(dir, "api.crt");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore", timeout: 20_000 });
    const tlsFake = await startFakeKubeApi({ port: TLS_API_PORT, token: TOKEN, tls: { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") } });
    const trusting = createKubernetesRuntime({ config: kubernetesConfig({ KUBERNETES_API: tlsFake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_CA_FILE: cert })! });
    const untrusting = createKubernetesRuntime({ config: kubernetesConfig({ KUBERNETES_API: tlsFake.url, KUBERNETES_TOKEN: TOKEN })! });
    try {
      expect(await trusting.available()).toEqual({ ok: true, version: "v1.30.0+switchyard-fake" });
      const refused = await untrusting.available();
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.reason).toMatch(/self.signed certificate/i);
    } finally {
      trusting.close();
      untrusting.close();
      await tlsFake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers larger than the limit are refused from their Content-Length, before the body is read", async () => {
    const config = kubernetesConfig({ KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-test" });
    const small = createKubernetesRuntime({ config: config!, maxResponseBytes: 300 });
    try {
      await expect(small.replicas(SERVICE_ID)).rejects.toThrow(/the answer is \d+ bytes, more than 300/);
    } finally {
      small.close();
    }
  });

  it("the registry refuses runtime kubernetes clearly while KUBERNETES_API is unset", () => {
    expect(process.env.KUBERNETES_API).toBeUndefined();
    expect(() => kubernetesClusterRuntime()).toThrow(/runtime kubernetes is not configured: set KUBERNETES_API and KUBERNETES_TOKEN/);
  });

  it("a hostile name, label, image or env is refused before any request", async () => {
    const count = fake.requests.length;
    const hostile = [
      { ...spec(1), serviceName: "../kube-system" },
      { ...spec(1), serviceName: "web\nx" },
      { ...spec(1), serviceId: "id with spaces" },
      { ...spec(1), serviceId: "x".repeat(64) },
      { ...spec(1), image: "img; rm -rf /" },
      { ...spec(1), env: { "BAD NAME": "1" } },
      { ...spec(1), command: ["node", "a\u0000b"] },
      { ...spec(1), replicas: -1 },
    ];
    for (const s of hostile) await expect(kube.ensureService(s), JSON.stringify(s).slice(0, 120)).rejects.toThrow(/bad|not|cannot|must|allowed|only|NUL|whole/i);
    await expect(kube.scale(SERVICE_ID, 1.5)).rejects.toThrow(/whole number/);
    expect(fake.requests.length).toBe(count);
    expect(await kube.inspect("../../etc/passwd")).toBeNull();
    await expect(kube.deletePod(SERVICE_ID, "..")).rejects.toThrow(/not a pod name/);
    await expect(kube.memberLogs(SERVICE_ID, "a/../b", 5)).rejects.toThrow(/not a pod name/);
    expect(fake.requests.length).toBe(count);
  });

  it("removes the Deployment, its Service and Secret; the pods stop", async () => {
    await kube.removeService(SERVICE_ID);
    expect(fake.objects("deployments")).toHaveLength(0);
    expect(fake.objects("services")).toHaveLength(0);
    expect(fake.objects("secrets")).toHaveLength(0);
    await until("no pods left", async () => fake.objects("pods").length, (n) => n === 0, 20_000);
    expect(await kube.list()).toEqual([]);
  });
});
