/**
 * Test helper: a FAKE Kubernetes API server, a real HTTP server on loopback, for the
 * Kubernetes runtime's tests (there is no Kubernetes distribution to run offline here).
 * It says it is one (/version: v1.30.0+switchyard-fake) and answers, as the real API does:
 *
 * - /version, /api, /apis (minimal discovery);
 * - Deployments (get/list/create/merge-patch/delete) and their scale subresource (GET/PUT,
 *   resourceVersion checked: a stale one answers 409 Conflict; interfereOnScaleRead()
 *   makes another writer touch the Deployment right after the next scale read);
 * - Services, Secrets, Pods (get/list/delete, the log subresource), EndpointSlices (get/list),
 *   Nodes (list: two fixed ones, the pods' nodeName);
 * - watches (?watch=1, JSON lines) resumed from a resourceVersion, a compacted one answered
 *   with an ERROR event code 410 (expire() compacts and ends the open watches).
 *
 * Its controllers stand in for the cluster's: a Deployment controller (pods up to
 * spec.replicas, extras deleted), a kubelet that RUNS each pod as a real replica process
 * (replica/server.js, as the process runtime starts it, with the container's env, valueFrom
 * fieldRef/secretKeyRef resolved) bound to a loopback address of its own (127.16.X.N: the
 * pod's IP; BIND_HOST stands in for the pod's network namespace), probes its readinessProbe
 * for real, restarts a container whose process dies (restartCount, lastState), and on pod
 * deletion runs the preStop sleep, then SIGTERM, then SIGKILL after the grace; and the
 * EndpointSlice controller (one slice per Service, conditions ready/serving/terminating,
 * targetRef the pod). Only equality label selectors.
 *
 * Rolling updates as the Deployment controller does them: one ReplicaSet per pod template
 * (named by the template's hash, `pod-template-hash` on its pods, revision annotation
 * `deployment.kubernetes.io/revision`, the Deployment's annotation naming the current one);
 * a changed template gets a new ReplicaSet that is scaled up while old ones are scaled down
 * within maxSurge / maxUnavailable, counting only ready pods as available; going back to an
 * old template (kubectl's undo) reuses its ReplicaSet with a new revision. The Deployment's
 * status says observedGeneration, updated/ready/available replicas and the conditions
 * Available and Progressing (NewReplicaSetAvailable when done; ProgressDeadlineExceeded
 * when nothing progressed for spec.progressDeadlineSeconds, as when a new pod never gets ready).
 *
 * The metrics API (metrics.k8s.io/v1beta1 PodMetrics, as metrics-server serves it): each pod's
 * CPU over the last ~1.5 s and its memory, read from its replica process's /proc (utime+stime,
 * VmRSS); `metrics: false` answers 404 there, as a cluster without metrics-server does.
 */
import http from "node:http";
import { readFileSync } from "node:fs";
import https from "node:https";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { REPLICA_SERVER_JS } from "./replica-process";

type Meta = {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  ownerReferences?: { kind: string; name: string; uid: string }[];
  generation?: number;
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = { apiVersion: string; kind: string; metadata: Meta; spec?: any; status?: any; [k: string]: any };

const RESOURCES: Record<string, { group: string; kind: string; apiVersion: string }> = {
  pods: { group: "", kind: "Pod", apiVersion: "v1" },
  services: { group: "", kind: "Service", apiVersion: "v1" },
  secrets: { group: "", kind: "Secret", apiVersion: "v1" },
  deployments: { group: "apps", kind: "Deployment", apiVersion: "apps/v1" },
  replicasets: { group: "apps", kind: "ReplicaSet", apiVersion: "apps/v1" },
  endpointslices: { group: "discovery.k8s.io", kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1" },
};

type Watcher = { res: string; ns: string; selector: Record<string, string>; out: http.ServerResponse };
type PodRun = { child: ChildProcess | null; failures: number; probing: boolean; restartTimer?: NodeJS.Timeout; deleting: boolean; log: string[] };

export type FakeKubeApi = {
  port: number;
  url: string;
  token: string;
  /** every request answered (method and path), oldest first */
  requests: { method: string; path: string; status: number }[];
  /** the pid of a pod's replica process (null when none runs) */
  pidOf(pod: string): number | null;
  /** the next GET of a scale subresource is followed, before its answer, by another writer touching the Deployment */
  interfereOnScaleRead(times?: number): void;
  /** compact the event history (older resourceVersions answer 410) and end every open watch */
  expire(): void;
  /** the live objects of a resource (copies) */
  objects(res: string): Obj[];
  close(): Promise<void>;
};

export async function startFakeKubeApi(opts: { port: number; token: string; probeMs?: number; ipPrefix?: string; tls?: { key: string; cert: string }; metrics?: boolean }): Promise<FakeKubeApi> {
  const probeMs = opts.probeMs ?? 300;
  const ipPrefix = opts.ipPrefix ?? `127.16.${20 + (process.pid % 200)}`;
  let rv = 1000;
  let nextIp = 2;
  let interfere = 0;
  const store = new Map<string, Map<string, Obj>>(Object.keys(RESOURCES).map((r) => [r, new Map()]));
  const history = new Map<string, { rv: number; type: string; obj: Obj }[]>(Object.keys(RESOURCES).map((r) => [r, []]));
  const compactedAt = new Map<string, number>(Object.keys(RESOURCES).map((r) => [r, 0]));
  const watchers = new Set<Watcher>();
  const runs = new Map<string, PodRun>();
  const requests: FakeKubeApi["requests"] = [];
  let closed = false;

  const key = (ns: string, name: string) => `${ns}/${name}`;
  const clone = <T>(o: T): T => structuredClone(o);
  const matches = (labels: Record<string, string> | undefined, sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels?.[k] === v);

  function record(res: string, type: "ADDED" | "MODIFIED" | "DELETED", obj: Obj) {
    const at = Number(obj.metadata.resourceVersion);
    history.get(res)!.push({ rv: at, type, obj: clone(obj) });
    for (const w of watchers) {
      if (w.res === res && obj.metadata.namespace === w.ns && matches(obj.metadata.labels, w.selector)) w.out.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  }

  function put(res: string, obj: Obj, type: "ADDED" | "MODIFIED") {
    obj.metadata.resourceVersion = String(++rv);
    store.get(res)!.set(key(obj.metadata.namespace!, obj.metadata.name), obj);
    record(res, type, obj);
  }

  function drop(res: string, obj: Obj) {
    store.get(res)!.delete(key(obj.metadata.namespace!, obj.metadata.name));
    obj.metadata.resourceVersion = String(++rv);
    record(res, "DELETED", obj);
  }

  function get(res: string, ns: string, name: string): Obj | undefined {
    return store.get(res)!.get(key(ns, name));
  }

  function status(res: http.ServerResponse, code: number, reason: string, message: string) {
    send(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
  }
  function send(res: http.ServerResponse, code: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  function parseSelector(s: string | null): Record<string, string> | null {
    const out: Record<string, string> = {};
    if (!s) return out;
    for (const part of s.split(",")) {
      const i = part.indexOf("=");
      if (i <= 0 || part.includes("!=") || part.includes("==")) return null;
      out[part.slice(0, i)] = part.slice(i + 1);
    }
    return out;
  }

  // ---- the kubelet ----------------------------------------------------------------------

  function envOf(pod: Obj): Record<string, string> {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "test" };
    const c = pod.spec.containers[0];
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = pod.metadata.name;
      else if (e.valueFrom?.fieldRef?.fieldPath === "status.podIP") env[e.name] = pod.status.podIP;
      else if (e.valueFrom?.secretKeyRef) {
        const s = get("secrets", pod.metadata.namespace!, e.valueFrom.secretKeyRef.name);
        const v = s?.data?.[e.valueFrom.secretKeyRef.key];
        if (v === undefined) throw new Error(`secret ${e.valueFrom.secretKeyRef.name} key ${e.valueFrom.secretKeyRef.key} not found`);
        env[e.name] = Buffer.from(v, "base64").toString("utf8");
      }
    }
    // the pod's network namespace: the replica binds its own loopback address
    env.BIND_HOST = pod.status.podIP;
    return env;
  }

  function containerStatus(pod: Obj) {
    return pod.status.containerStatuses[0];
  }

  function setReady(pod: Obj, ready: boolean) {
    const cs = containerStatus(pod);
    if (cs.ready === ready) return;
    cs.ready = ready;
    pod.status.conditions = [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: new Date().toISOString() }];
    put("pods", pod, "MODIFIED");
    syncSlices();
  }

  function startContainer(pod: Obj) {
    const run = runs.get(pod.metadata.name)!;
    let child: ChildProcess;
    try {
      // EXIT_WITH_PARENT: a pod outlives no test process that is killed mid-run (replica/server.js)
      child = spawn(process.execPath, [REPLICA_SERVER_JS], { env: { ...(envOf(pod) as NodeJS.ProcessEnv), EXIT_WITH_PARENT: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      pod.status.containerStatuses[0].state = { waiting: { reason: "CreateContainerError", message: (e as Error).message } };
      put("pods", pod, "MODIFIED");
      return;
    }
    run.child = child;
    run.failures = 0;
    // the container's log (what pods/{name}/log answers), the last 1000 lines
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (d: string) => {
        run.log.push(...d.split("\n").filter(Boolean));
        if (run.log.length > 1000) run.log.splice(0, run.log.length - 1000);
      });
    }
    const cs = containerStatus(pod);
    cs.state = { running: { startedAt: new Date().toISOString() } };
    put("pods", pod, "MODIFIED");
    child.on("exit", (code, signal) => {
      if (run.child !== child) return;
      run.child = null;
      const live = get("pods", pod.metadata.namespace!, pod.metadata.name);
      if (!live || closed) return;
      const s = containerStatus(live);
      s.ready = false;
      s.lastState = { terminated: { exitCode: code ?? 128 + (signal === "SIGKILL" ? 9 : 15), signal: signal ?? undefined, reason: "Error", finishedAt: new Date().toISOString() } };
      if (run.deleting) return;
      // restartPolicy Always: the kubelet starts the container again in the same pod
      s.restartCount++;
      s.state = { waiting: { reason: "ContainerCreating" } };
      live.status.conditions = [{ type: "Ready", status: "False" }];
      put("pods", live, "MODIFIED");
      syncSlices();
      run.restartTimer = setTimeout(() => startContainer(live), 300);
    });
  }

  async function probe(pod: Obj) {
    const run = runs.get(pod.metadata.name);
    if (!run || run.probing || !run.child) return;
    const c = pod.spec.containers[0];
    const p = c.readinessProbe?.httpGet;
    if (!p) return setReady(pod, true);
    const port = typeof p.port === "number" ? p.port : c.ports?.find((x: { name: string }) => x.name === p.port)?.containerPort;
    run.probing = true;
    let ok = false;
    try {
      const res = await fetch(`http://${pod.status.podIP}:${port}${p.path ?? "/"}`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      ok = res.status >= 200 && res.status < 400;
    } catch {
      ok = false;
    }
    run.probing = false;
    if (!get("pods", pod.metadata.namespace!, pod.metadata.name) || !run.child) return;
    if (ok) {
      run.failures = 0;
      setReady(pod, true);
    } else if (++run.failures >= (c.readinessProbe.failureThreshold ?? 3)) setReady(pod, false);
  }

  /** the two nodes; a cordoned one (spec.unschedulable) gets no new pods */
  const nodes = new Map<string, Obj>(
    ["fake-node-a", "fake-node-b"].map((n, i): [string, Obj] => [
      n,
      {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: n, uid: `node-${n}`, labels: (i === 0 ? { "node-role.kubernetes.io/control-plane": "" } : {}) as Record<string, string>, resourceVersion: "1" },
        spec: {},
        status: { conditions: [{ type: "Ready", status: "True" }], addresses: [{ type: "InternalIP", address: `${ipPrefix}.${240 + i}` }] },
      },
    ]),
  );
  let nextNode = 0;
  function scheduleOn(): string {
    const open = [...nodes.values()].filter((n) => !n.spec.unschedulable).map((n) => n.metadata.name);
    const all = open.length > 0 ? open : [...nodes.keys()]; // none schedulable: the real scheduler leaves it Pending; the fake places it anyway
    return all[nextNode++ % all.length];
  }

  function createPod(rs: Obj) {
    const tpl = rs.spec.template;
    const hash = rs.metadata.labels!["pod-template-hash"];
    const name = `${rs.metadata.name}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const ip = `${ipPrefix}.${nextIp++}`;
    if (nextIp > 250) nextIp = 2;
    const pod: Obj = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: rs.metadata.namespace,
        uid: randomUUID(),
        labels: { ...tpl.metadata.labels, "pod-template-hash": hash },
        creationTimestamp: new Date().toISOString(),
        ownerReferences: [{ kind: "ReplicaSet", name: rs.metadata.name, uid: rs.metadata.uid! }],
      },
      spec: { ...clone(tpl.spec), nodeName: scheduleOn() },
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        startTime: new Date().toISOString(),
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [{ name: tpl.spec.containers[0].name, ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } }, lastState: {} }],
      },
    };
    put("pods", pod, "ADDED");
    runs.set(name, { child: null, failures: 0, probing: false, deleting: false, log: [] });
    startContainer(pod);
  }

  function deletePod(pod: Obj) {
    const run = runs.get(pod.metadata.name);
    if (!run || run.deleting) return;
    run.deleting = true;
    clearTimeout(run.restartTimer);
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    pod.metadata.deletionTimestamp = new Date().toISOString();
    pod.metadata.deletionGracePeriodSeconds = grace;
    put("pods", pod, "MODIFIED");
    syncSlices();
    const preStop = pod.spec.containers[0].lifecycle?.preStop?.sleep?.seconds ?? 0;
    const finish = () => {
      runs.delete(pod.metadata.name);
      if (get("pods", pod.metadata.namespace!, pod.metadata.name)) drop("pods", pod);
      syncSlices();
    };
    setTimeout(() => {
      const child = run.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return finish();
      child.once("exit", finish);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), Math.max(0, grace - preStop) * 1000).unref();
    }, preStop * 1000);
  }

  // ---- the controllers -------------------------------------------------------------------

  const REVISION = "deployment.kubernetes.io/revision";
  /** when each Deployment last made progress (its uid → the figures then and the time), for progressDeadlineSeconds */
  const progress = new Map<string, { figures: string; at: number }>();
  const templateHash = (tpl: unknown) => createHash("sha256").update(JSON.stringify(tpl)).digest("hex").slice(0, 10);
  const revisionOf = (rs: Obj) => Number(rs.metadata.annotations?.[REVISION] ?? "0");
  const livePodsOf = (owner: Obj) => [...store.get("pods")!.values()].filter((p) => p.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid && !p.metadata.deletionTimestamp);
  const isReady = (p: Obj) => Boolean(containerStatus(p).ready);
  /** maxSurge / maxUnavailable: a number or a percentage of the desired count (surge rounds up, unavailable down) */
  function resolveInt(v: unknown, total: number, up: boolean, fallback: string): number {
    const raw = v ?? fallback;
    if (typeof raw === "number") return raw;
    const pct = Number(String(raw).replace("%", ""));
    return up ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
  }

  function setRsReplicas(rs: Obj, n: number) {
    if (rs.spec.replicas === n) return;
    rs.spec.replicas = n;
    put("replicasets", rs, "MODIFIED");
  }

  /** The Deployment controller: its ReplicaSets rolled within maxSurge / maxUnavailable, then its status. */
  function rollDeployment(d: Obj) {
    const want = d.spec.replicas ?? 1;
    const owned = [...store.get("replicasets")!.values()].filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === d.metadata.uid);
    const hash = templateHash(d.spec.template);
    const top = Math.max(0, ...owned.map(revisionOf));
    let newRs = owned.find((rs) => rs.metadata.labels?.["pod-template-hash"] === hash);
    if (!newRs) {
      newRs = {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          uid: randomUUID(),
          labels: { ...d.spec.template.metadata.labels, "pod-template-hash": hash },
          annotations: { [REVISION]: String(top + 1) },
          creationTimestamp: new Date().toISOString(),
          ownerReferences: [{ kind: "Deployment", name: d.metadata.name, uid: d.metadata.uid! }],
        },
        spec: { replicas: owned.length === 0 ? want : 0, selector: { matchLabels: { ...d.spec.selector.matchLabels, "pod-template-hash": hash } }, template: { ...clone(d.spec.template), metadata: { labels: { ...d.spec.template.metadata.labels, "pod-template-hash": hash } } } },
      };
      put("replicasets", newRs, "ADDED");
      progress.delete(d.metadata.uid!);
    } else if (revisionOf(newRs) < top) {
      // back to an older template (an undo): its ReplicaSet becomes the newest revision
      newRs.metadata.annotations = { ...newRs.metadata.annotations, [REVISION]: String(top + 1) };
      put("replicasets", newRs, "MODIFIED");
      progress.delete(d.metadata.uid!);
    }
    const olds = owned.filter((rs) => rs !== newRs);
    const oldTotal = olds.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    if (oldTotal === 0 || d.spec.strategy?.type === "Recreate") {
      for (const rs of olds) setRsReplicas(rs, 0);
      setRsReplicas(newRs, want);
    } else {
      const surge = resolveInt(d.spec.strategy?.rollingUpdate?.maxSurge, want, true, "25%");
      let unavailable = resolveInt(d.spec.strategy?.rollingUpdate?.maxUnavailable, want, false, "25%");
      if (surge === 0 && unavailable === 0) unavailable = 1;
      // up: the new ReplicaSet, as far as the surge allows
      const total = (newRs.spec.replicas ?? 0) + oldTotal;
      const up = Math.min(want + surge - total, want - (newRs.spec.replicas ?? 0));
      if (up > 0) setRsReplicas(newRs, (newRs.spec.replicas ?? 0) + up);
      if ((newRs.spec.replicas ?? 0) > want) setRsReplicas(newRs, want);
      // down: old pods that are not ready first, then ready ones while enough stay available
      const minAvailable = want - unavailable;
      const allPods = (newRs.spec.replicas ?? 0) + oldTotal;
      const newUnavailable = (newRs.spec.replicas ?? 0) - livePodsOf(newRs).filter(isReady).length;
      let budget = allPods - minAvailable - newUnavailable;
      for (const rs of olds) {
        if (budget <= 0) break;
        const unhealthy = (rs.spec.replicas ?? 0) - livePodsOf(rs).filter(isReady).length;
        const n = Math.min(budget, Math.max(0, unhealthy));
        if (n > 0) setRsReplicas(rs, (rs.spec.replicas ?? 0) - n);
        budget -= n;
      }
      const available = owned.reduce((n, rs) => n + livePodsOf(rs).filter(isReady).length, 0);
      let down = available - minAvailable;
      for (const rs of [...olds].sort((a, b) => revisionOf(a) - revisionOf(b))) {
        if (down <= 0) break;
        const n = Math.min(down, rs.spec.replicas ?? 0);
        if (n > 0) setRsReplicas(rs, (rs.spec.replicas ?? 0) - n);
        down -= n;
      }
    }

    // the status, as kubectl rollout status reads it
    const pods = owned.flatMap((rs) => livePodsOf(rs));
    const updated = livePodsOf(newRs).length;
    const ready = pods.filter(isReady).length;
    const available = ready;
    const figures = `${newRs.metadata.name}/${updated}/${livePodsOf(newRs).filter(isReady).length}/${pods.length}`;
    const now = Date.now();
    const last = progress.get(d.metadata.uid!);
    if (!last || last.figures !== figures) progress.set(d.metadata.uid!, { figures, at: now });
    const since = progress.get(d.metadata.uid!)!.at;
    const complete = updated === want && pods.length === want && available === want && (newRs.spec.replicas ?? 0) === want;
    const deadlineS = d.spec.progressDeadlineSeconds ?? 600;
    const unavailable = resolveInt(d.spec.strategy?.rollingUpdate?.maxUnavailable, want, false, "25%");
    const rsName = newRs.metadata.name;
    const previous = (d.status?.conditions ?? []) as { type: string; status: string; reason: string; lastTransitionTime?: string }[];
    const cond = (type: string, st: string, reason: string, message: string) => {
      const before = previous.find((c) => c.type === type);
      const stamp = new Date(before && before.status === st && before.reason === reason ? Date.parse(before.lastTransitionTime ?? "") || now : now).toISOString();
      return { type, status: st, reason, message, lastTransitionTime: stamp, lastUpdateTime: stamp };
    };
    const progressing = complete
      ? cond("Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "${rsName}" has successfully progressed.`)
      : now - since > deadlineS * 1000 || previous.some((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded" && last?.figures === figures)
        ? cond("Progressing", "False", "ProgressDeadlineExceeded", `ReplicaSet "${rsName}" has timed out progressing.`)
        : cond("Progressing", "True", "ReplicaSetUpdated", `ReplicaSet "${rsName}" is progressing.`);
    const next = {
      observedGeneration: d.metadata.generation,
      replicas: pods.length,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, want - available),
      conditions: [
        available >= want - unavailable ? cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.") : cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
        progressing,
      ],
    };
    const revision = String(revisionOf(newRs));
    if (JSON.stringify(d.status) !== JSON.stringify(next) || d.metadata.annotations?.[REVISION] !== revision) {
      d.status = next;
      d.metadata.annotations = { ...d.metadata.annotations, [REVISION]: revision };
      put("deployments", d, "MODIFIED");
    }
  }

  function reconcile() {
    if (closed) return;
    for (const d of store.get("deployments")!.values()) rollDeployment(d);
    // the ReplicaSet controller: pods up to spec.replicas, extras deleted
    for (const rs of store.get("replicasets")!.values()) {
      const owned = livePodsOf(rs);
      const want = rs.spec.replicas ?? 0;
      for (let i = owned.length; i < want; i++) createPod(rs);
      if (owned.length > want) {
        // not ready first, then the newest (as the ReplicaSet controller ranks them)
        const ranked = owned.sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || (b.metadata.creationTimestamp! > a.metadata.creationTimestamp! ? 1 : -1));
        for (const p of ranked.slice(0, owned.length - want)) deletePod(p);
      }
    }
    // garbage collection: ReplicaSets whose Deployment is gone, pods whose ReplicaSet is gone
    const deploymentUids = new Set([...store.get("deployments")!.values()].map((d) => d.metadata.uid));
    for (const rs of [...store.get("replicasets")!.values()]) if (!deploymentUids.has(rs.metadata.ownerReferences?.[0]?.uid)) drop("replicasets", rs);
    const rsUids = new Set([...store.get("replicasets")!.values()].map((rs) => rs.metadata.uid));
    for (const p of store.get("pods")!.values()) {
      const owner = p.metadata.ownerReferences?.[0]?.uid;
      if (owner && !rsUids.has(owner)) deletePod(p);
    }
    syncSlices();
  }

  function syncSlices() {
    if (closed) return;
    for (const svc of store.get("services")!.values()) {
      const sel = svc.spec.selector as Record<string, string> | undefined;
      if (!sel) continue;
      const pods = [...store.get("pods")!.values()].filter((p) => matches(p.metadata.labels, sel) && p.status?.podIP);
      const first = pods[0]?.spec.containers[0];
      const ports = (svc.spec.ports ?? []).map((sp: { name: string; port: number; targetPort?: string | number; protocol?: string }) => ({
        name: sp.name,
        protocol: sp.protocol ?? "TCP",
        port: typeof sp.targetPort === "string" ? (first?.ports?.find((x: { name: string }) => x.name === sp.targetPort)?.containerPort ?? sp.port) : (sp.targetPort ?? sp.port),
      }));
      const endpoints = pods.map((p) => {
        const terminating = Boolean(p.metadata.deletionTimestamp);
        const serving = Boolean(containerStatus(p).ready);
        return {
          addresses: [p.status.podIP],
          conditions: { ready: serving && !terminating, serving, terminating },
          nodeName: p.spec.nodeName,
          targetRef: { kind: "Pod", namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
        };
      });
      const name = `${svc.metadata.name}-${svc.metadata.uid!.slice(0, 5)}`;
      const existing = get("endpointslices", svc.metadata.namespace!, name);
      if (existing && JSON.stringify([existing.endpoints, existing.ports]) === JSON.stringify([endpoints, ports])) continue;
      const slice: Obj = {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          name,
          namespace: svc.metadata.namespace,
          uid: existing?.metadata.uid ?? randomUUID(),
          // the real controller copies the Service's labels onto its slices
          labels: { ...svc.metadata.labels, "kubernetes.io/service-name": svc.metadata.name, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
          creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        },
        addressType: "IPv4",
        endpoints,
        ports,
      };
      put("endpointslices", slice, existing ? "MODIFIED" : "ADDED");
    }
    for (const s of [...store.get("endpointslices")!.values()]) {
      if (!get("services", s.metadata.namespace!, s.metadata.labels!["kubernetes.io/service-name"])) drop("endpointslices", s);
    }
  }

  // ---- metrics-server ----------------------------------------------------------------------

  /** each pod's CPU time samples (clock ticks of its process, utime + stime), the last ~1.5 s */
  const cpuSamples = new Map<string, { at: number; ticks: number; pid: number }[]>();
  const CLK_TCK = 100;
  function procTicks(pid: number): number | null {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(f[11]) + Number(f[12]);
    } catch {
      return null;
    }
  }
  function sampleCpu() {
    for (const [name, run] of runs) {
      const pid = run.child?.pid;
      const ticks = pid ? procTicks(pid) : null;
      if (!pid || ticks === null) {
        cpuSamples.delete(name);
        continue;
      }
      const list = (cpuSamples.get(name) ?? []).filter((s) => s.pid === pid);
      list.push({ at: Date.now(), ticks, pid });
      while (list.length > 2 && Date.now() - list[0].at > 1500) list.shift();
      cpuSamples.set(name, list);
    }
    for (const name of [...cpuSamples.keys()]) if (!runs.has(name)) cpuSamples.delete(name);
  }
  /** PodMetrics of a pod from its process, or null while it has no two samples (a fresh pod, as metrics-server) */
  function podMetricsOf(pod: Obj): Obj | null {
    const samples = cpuSamples.get(pod.metadata.name) ?? [];
    if (samples.length < 2) return null;
    const first = samples[0];
    const last = samples[samples.length - 1];
    let rssKb: number | null = null;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${last.pid}/status`, "utf8"));
      rssKb = m ? Number(m[1]) : null;
    } catch {
      rssKb = null;
    }
    if (rssKb === null) return null;
    const cores = (last.ticks - first.ticks) / CLK_TCK / Math.max(0.001, (last.at - first.at) / 1000);
    return {
      kind: "PodMetrics",
      apiVersion: "metrics.k8s.io/v1beta1",
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels, creationTimestamp: new Date().toISOString() },
      timestamp: new Date(last.at).toISOString(),
      window: `${((last.at - first.at) / 1000).toFixed(3)}s`,
      containers: [{ name: pod.spec.containers[0].name, usage: { cpu: `${Math.round(cores * 1e9)}n`, memory: `${rssKb}Ki` } }],
    };
  }

  const tick = setInterval(() => {
    reconcile();
    sampleCpu();
    for (const p of store.get("pods")!.values()) void probe(p);
  }, probeMs);

  // ---- the API ---------------------------------------------------------------------------

  function merge(target: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = merge(out[k], v);
    }
    return out;
  }

  function readBody(req: http.IncomingMessage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let n = 0;
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => {
        n += c.length;
        if (n > 1024 * 1024) req.destroy(new Error("body too large"));
        else chunks.push(c);
      });
      req.on("end", () => {
        try {
          resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined);
        } catch (e) {
          reject(e);
        }
      });
      req.on("error", reject);
    });
  }

  const isName = (s: unknown) => typeof s === "string" && /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(s);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    res.on("finish", () => requests.push({ method, path: `${url.pathname}${url.search}`, status: res.statusCode }));
    if (req.headers.authorization !== `Bearer ${opts.token}`) return status(res, 401, "Unauthorized", "Unauthorized");
    if (url.pathname === "/version") return send(res, 200, { major: "1", minor: "30", gitVersion: "v1.30.0+switchyard-fake", platform: "linux/amd64" });
    if (url.pathname === "/api") return send(res, 200, { kind: "APIVersions", versions: ["v1"] });
    if (url.pathname === "/apis") {
      const groups = ["apps", "discovery.k8s.io", "autoscaling"].map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: "v1" }], preferredVersion: { groupVersion: `${g}/v1`, version: "v1" } }));
      return send(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups });
    }
    if (url.pathname === "/api/v1/nodes" && method === "GET") {
      return send(res, 200, { kind: "NodeList", apiVersion: "v1", metadata: { resourceVersion: String(rv) }, items: [...nodes.values()].map(clone) });
    }
    const nodePath = /^\/api\/v1\/nodes\/([a-z0-9.-]{1,253})$/.exec(url.pathname);
    if (nodePath) {
      const node = nodes.get(nodePath[1]);
      if (!node) return status(res, 404, "NotFound", `nodes "${nodePath[1]}" not found`);
      if (method === "GET") return send(res, 200, node);
      if (method === "PATCH" && req.headers["content-type"] === "application/merge-patch+json") {
        // cordon / uncordon: only spec.unschedulable in the fake
        const patch = (await readBody(req)) as { spec?: { unschedulable?: boolean | null } };
        node.spec = { ...node.spec, unschedulable: patch?.spec?.unschedulable === true ? true : undefined };
        if (!node.spec.unschedulable) delete node.spec.unschedulable;
        node.metadata.resourceVersion = String(++rv);
        return send(res, 200, node);
      }
      return status(res, 405, "MethodNotAllowed", `${method} is not allowed on nodes in the fake`);
    }
    const metricsPath = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([a-z0-9-]{1,63})\/pods(?:\/([a-z0-9.-]{1,253}))?$/.exec(url.pathname);
    if (metricsPath) {
      if (opts.metrics === false || method !== "GET") return status(res, 404, "NotFound", "the server could not find the requested resource");
      const [, mns, mname] = metricsPath;
      if (mname) {
        const pod = get("pods", mns, mname);
        const pm = pod ? podMetricsOf(pod) : null;
        return pm ? send(res, 200, pm) : status(res, 404, "NotFound", `podmetrics.metrics.k8s.io "${mname}" not found`);
      }
      const sel = parseSelector(url.searchParams.get("labelSelector"));
      if (!sel) return status(res, 400, "BadRequest", "only equality selectors in the fake");
      const items = [...store.get("pods")!.values()].filter((p) => p.metadata.namespace === mns && matches(p.metadata.labels, sel)).map(podMetricsOf).filter((x): x is Obj => x !== null);
      return send(res, 200, { kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items });
    }
    const m = /^\/(?:api\/v1|apis\/(apps|discovery\.k8s\.io)\/v1)\/namespaces\/([a-z0-9-]{1,63})\/([a-z]{1,20})(?:\/([a-z0-9.-]{1,253}))?(?:\/(scale|log|eviction))?$/.exec(url.pathname);
    if (!m) return status(res, 404, "NotFound", `the server could not find the requested resource (${url.pathname})`);
    const [, group = "", ns, resName, name, sub] = m;
    const kind = RESOURCES[resName];
    if (!kind || kind.group !== group) return status(res, 404, "NotFound", "the server could not find the requested resource");
    const what = `${resName}${group ? `.${group}` : ""}`;
    const selector = parseSelector(url.searchParams.get("labelSelector"));
    if (!selector) return status(res, 400, "BadRequest", "unable to parse requirement: only equality selectors in the fake");

    if (!name && method === "GET" && (url.searchParams.get("watch") === "1" || url.searchParams.get("watch") === "true")) {
      const from = Number(url.searchParams.get("resourceVersion") ?? "0");
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      if (from && from < compactedAt.get(resName)!) {
        res.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${from} (${compactedAt.get(resName)})`, reason: "Expired", code: 410 } })}\n`);
        return;
      }
      for (const ev of history.get(resName)!) {
        if (ev.rv > from && ev.obj.metadata.namespace === ns && matches(ev.obj.metadata.labels, selector)) res.write(`${JSON.stringify({ type: ev.type, object: ev.obj })}\n`);
      }
      const w: Watcher = { res: resName, ns, selector, out: res };
      watchers.add(w);
      const timeout = Number(url.searchParams.get("timeoutSeconds") ?? "1800");
      const timer = setTimeout(() => res.end(), timeout * 1000);
      res.on("close", () => {
        clearTimeout(timer);
        watchers.delete(w);
      });
      return;
    }

    if (!name) {
      if (method === "GET") {
        const items = [...store.get(resName)!.values()].filter((o) => o.metadata.namespace === ns && matches(o.metadata.labels, selector));
        return send(res, 200, { kind: `${kind.kind}List`, apiVersion: kind.apiVersion, metadata: { resourceVersion: String(rv) }, items });
      }
      if (method === "POST" && resName !== "pods" && resName !== "endpointslices" && resName !== "replicasets") {
        const body = (await readBody(req)) as Obj;
        if (!isName(body?.metadata?.name)) return status(res, 422, "Invalid", `${kind.kind} name is invalid`);
        if (get(resName, ns, body.metadata.name)) return status(res, 409, "AlreadyExists", `${what} "${body.metadata.name}" already exists`);
        const obj: Obj = { ...body, apiVersion: kind.apiVersion, kind: kind.kind, metadata: { ...body.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date().toISOString(), generation: 1 } };
        if (resName === "secrets") {
          obj.data = { ...(obj.data ?? {}), ...Object.fromEntries(Object.entries((obj.stringData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) };
          delete obj.stringData;
        }
        if (resName === "deployments" && !matches(obj.spec?.template?.metadata?.labels, obj.spec?.selector?.matchLabels ?? { none: "x" })) return status(res, 422, "Invalid", "spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`");
        put(resName, obj, "ADDED");
        reconcile();
        return send(res, 201, obj);
      }
      return status(res, 405, "MethodNotAllowed", `${method} is not allowed on ${what}`);
    }

    const obj = get(resName, ns, name);
    if (!obj) return status(res, 404, "NotFound", `${what} "${name}" not found`);

    if (sub === "eviction") {
      // the Eviction API (policy/v1): no PodDisruptionBudgets in the fake, so every eviction is allowed: a graceful delete
      if (resName !== "pods" || method !== "POST") return status(res, 404, "NotFound", "no eviction subresource");
      const body = (await readBody(req)) as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
      if (body?.kind !== "Eviction" || body.metadata?.name !== name) return status(res, 400, "BadRequest", "an Eviction naming the pod is expected");
      deletePod(obj);
      reconcile();
      return send(res, 201, { kind: "Status", apiVersion: "v1", status: "Success" });
    }
    if (sub === "log") {
      if (resName !== "pods" || method !== "GET") return status(res, 404, "NotFound", "no log subresource");
      const tail = Number(url.searchParams.get("tailLines") ?? "1000");
      const text = (runs.get(name)?.log ?? []).slice(-tail).join("\n");
      res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
      return res.end(text);
    }
    if (sub === "scale") {
      if (resName !== "deployments") return status(res, 404, "NotFound", "no scale subresource");
      const scaleOf = (d: Obj) => ({ kind: "Scale", apiVersion: "autoscaling/v1", metadata: { name: d.metadata.name, namespace: ns, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion }, spec: { replicas: d.spec.replicas }, status: { replicas: d.status?.replicas ?? 0, selector: Object.entries(d.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(",") } });
      if (method === "GET") {
        const answer = scaleOf(obj);
        if (interfere > 0) {
          interfere--;
          obj.metadata.annotations = { ...obj.metadata.annotations, "fake.switchyard/touched": new Date().toISOString() };
          put("deployments", obj, "MODIFIED");
        }
        return send(res, 200, answer);
      }
      if (method === "PUT") {
        const body = (await readBody(req)) as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
        const want = body?.spec?.replicas;
        if (!Number.isInteger(want) || (want as number) < 0) return status(res, 422, "Invalid", "spec.replicas: Invalid value");
        const sent = body.metadata?.resourceVersion;
        if (sent && sent !== obj.metadata.resourceVersion) {
          return status(res, 409, "Conflict", `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        obj.spec.replicas = want;
        obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
        put("deployments", obj, "MODIFIED");
        reconcile();
        return send(res, 200, scaleOf(obj));
      }
      return status(res, 405, "MethodNotAllowed", `${method} is not allowed on the scale subresource in the fake`);
    }

    if (method === "GET") return send(res, 200, obj);
    if (method === "DELETE") {
      if (resName === "pods") deletePod(obj);
      else drop(resName, obj);
      reconcile();
      return send(res, 200, { kind: "Status", apiVersion: "v1", status: "Success", details: { name, kind: resName } });
    }
    if (method === "PATCH" && req.headers["content-type"] === "application/merge-patch+json" && resName === "deployments") {
      const patch = (await readBody(req)) as Obj;
      const next = merge(obj, patch) as Obj;
      if (next.metadata.name !== name || next.spec.selector?.matchLabels?.["switchyard.service"] !== obj.spec.selector.matchLabels["switchyard.service"]) return status(res, 422, "Invalid", "spec.selector: field is immutable");
      // as the API server: the generation moves only when the spec changed
      if (JSON.stringify(next.spec) !== JSON.stringify(obj.spec)) next.metadata.generation = (obj.metadata.generation ?? 1) + 1;
      if (JSON.stringify(next) === JSON.stringify(obj)) return send(res, 200, obj);
      put(resName, next, "MODIFIED");
      reconcile();
      return send(res, 200, next);
    }
    if (method === "PUT" && (resName === "secrets" || resName === "services")) {
      const body = (await readBody(req)) as Obj;
      const next: Obj = { ...obj, ...body, metadata: { ...obj.metadata, labels: body.metadata?.labels ?? obj.metadata.labels } };
      if (resName === "secrets" && body.stringData) {
        next.data = Object.fromEntries(Object.entries(body.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
        delete next.stringData;
      }
      put(resName, next, "MODIFIED");
      return send(res, 200, next);
    }
    return status(res, 405, "MethodNotAllowed", `${method} is not allowed on ${what} in the fake`);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) status(res, 500, "InternalError", (e as Error).message);
      else res.destroy();
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });

  return {
    port: opts.port,
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${opts.port}`,
    token: opts.token,
    requests,
    pidOf: (pod) => runs.get(pod)?.child?.pid ?? null,
    interfereOnScaleRead: (times = 1) => {
      interfere += times;
    },
    expire() {
      rv++;
      for (const r of Object.keys(RESOURCES)) {
        compactedAt.set(r, rv);
        history.set(r, []);
      }
      for (const w of [...watchers]) w.out.end();
    },
    objects: (res) => [...store.get(res)!.values()].map(clone),
    async close() {
      closed = true;
      clearInterval(tick);
      const exits: Promise<void>[] = [];
      for (const run of runs.values()) {
        clearTimeout(run.restartTimer);
        const child = run.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          exits.push(new Promise((r) => child.once("exit", () => r())));
          child.kill("SIGKILL");
        }
      }
      await Promise.all(exits);
      for (const w of [...watchers]) w.out.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
