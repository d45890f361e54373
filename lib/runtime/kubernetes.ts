/**
 * The Kubernetes runtime (experimental: it has run only against the fake API server in
 * tests/helpers/fake-kube-api.ts, never against a real cluster). A panel service is:
 *
 * - a Deployment `sy-<service>` labelled switchyard.managed=true, .service, .service-name
 *   (and .panel when the panel has an id), created or updated through the API (a merge
 *   patch of its template: the replica count is the scale subresource's alone);
 * - a headless Service of the same name selecting its pods, so that the cluster's
 *   EndpointSlice controller publishes their addresses and readiness;
 * - a Secret `sy-<service>-admin` holding the replicas' admin token (never in the
 *   Deployment's spec, which more people may read).
 *
 * Scaling goes through the Deployment's scale subresource with the resourceVersion read;
 * a 409 Conflict (someone wrote in between) is re-read and retried. Replicas are read from
 * the Service's EndpointSlices (discovery.k8s.io/v1) joined with the pods by targetRef
 * (lib/core/kubernetes.ts: terminating endpoints are draining). Events come from watches
 * on pods and EndpointSlices, resumed from the last resourceVersion; a 410 Gone relists.
 *
 * Every name, label and field is checked before any request. The per-replica lifecycle of
 * the Runtime port (create/stop/restart one replica) does not map onto a Deployment: those
 * refuse, as the Swarm runtime's do; deletePod() deletes one pod, which the Deployment replaces.
 */
import { AppError } from "@/lib/core/errors";
import { sleep } from "@/lib/process/sleep";
import {
  checkedLabels,
  deploymentRollout,
  isEnvName,
  isImageRef,
  isPodName,
  kubeObjectName,
  labelSelector,
  memberIdOf,
  podUsage,
  previousRevision,
  replicasFromSlices,
  type DeploymentForRollout,
  type EndpointSlice,
  type KubeReplica,
  type KubeRollout,
  type PodMetrics,
  type Pod,
} from "@/lib/core/kubernetes";
import { LABEL_PANEL } from "./docker";
import { replicaEnv } from "./replica-env";
import { createKubeClient, KubeApiError, type KubeClientOptions, type KubernetesConfig, type WatchEvent } from "./kubernetes-api";
import { createEventHub } from "./event-hub";
import { refusedReplicaLifecycle } from "./refused-lifecycle";
import { LABEL_MANAGED, LABEL_SERVICE, LABEL_SERVICE_NAME, type Runtime, type RuntimeEvent, type RuntimeReplica, type RuntimeReplicaState } from "./types";
import type { ClusterMember, ClusterNode, ClusterRuntime, ClusterServiceSpec } from "./cluster";

export type KubernetesRuntimeOptions = KubeClientOptions & {
  config: KubernetesConfig;
  defaultImage?: string;
  panelId?: string;
  /** how many times a scale re-reads after a 409 before it gives up; default 8 */
  maxScaleAttempts?: number;
  /** the preStop pause before SIGTERM, so balancers take the pod out first; default 5 s */
  drainSeconds?: number;
  /** terminationGracePeriodSeconds (counts the preStop pause too); default 30 */
  graceSeconds?: number;
  /** the Deployment's progressDeadlineSeconds: a rollout with no progress for this long is stalled; default 600 */
  progressDeadlineSeconds?: number;
};

/** What the panel asks Kubernetes to run for one of its services. */
export type KubeServiceSpec = ClusterServiceSpec;

/** Something changed in the cluster for a managed service (a watch event or a relist's difference). */
export type KubeChange = { kind: "pod" | "endpointslice"; type: "ADDED" | "MODIFIED" | "DELETED"; name: string; serviceId: string | null };

export const DATA_PORT_NAME = "http";
export const ADMIN_PORT_NAME = "admin";
const CONTAINER = "replica";
const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

type Meta = { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string; deletionTimestamp?: string };
type Deployment = DeploymentForRollout & { metadata: Meta; spec: { replicas?: number; template: { spec: { containers: { env?: { name: string; value?: string }[]; ports?: { name?: string; containerPort: number }[] }[] } } } };
type Scale = { metadata: Meta; spec: { replicas?: number }; status?: { replicas?: number } };
type List<T> = { metadata: { resourceVersion?: string }; items: T[] };

export function createKubernetesRuntime(opts: KubernetesRuntimeOptions) {
  const client = createKubeClient(opts.config, opts);
  const ns = opts.config.namespace;
  const maxAttempts = opts.maxScaleAttempts ?? 8;
  const drainSeconds = opts.drainSeconds ?? 5;
  const graceSeconds = Math.max(opts.graceSeconds ?? 30, drainSeconds + 1);
  const progressDeadlineSeconds = Math.max(1, Math.min(opts.progressDeadlineSeconds ?? 600, 86_400));
  const managed = checkedLabels({ [LABEL_MANAGED]: "true", ...(opts.panelId ? { [LABEL_PANEL]: opts.panelId } : {}) });
  const managedSelector = labelSelector(managed);

  const apps = `/apis/apps/v1/namespaces/${ns}`;
  const core = `/api/v1/namespaces/${ns}`;
  const discovery = `/apis/discovery.k8s.io/v1/namespaces/${ns}`;
  const q = (selector: string) => `labelSelector=${encodeURIComponent(selector)}`;

  function serviceLabels(serviceId: string, serviceName: string): Record<string, string> {
    return checkedLabels({ ...managed, [LABEL_SERVICE]: serviceId, [LABEL_SERVICE_NAME]: serviceName });
  }

  /** The managed Deployment of a panel service id (or null). */
  async function findDeployment(serviceId: string): Promise<Deployment | null> {
    const list = await client.request<List<Deployment>>("GET", `${apps}/deployments?${q(labelSelector({ ...managed, [LABEL_SERVICE]: serviceId }))}`);
    return list.items[0] ?? null;
  }

  async function mustFind(serviceId: string): Promise<Deployment> {
    const d = await findDeployment(serviceId);
    if (!d) throw new AppError("not_found", `no Kubernetes Deployment for service ${serviceId} in namespace ${ns}`);
    return d;
  }

  /** The objects of a service, built and checked before any request. */
  function objectsOf(spec: KubeServiceSpec) {
    const name = kubeObjectName(spec.serviceName);
    const labels = serviceLabels(spec.serviceId, spec.serviceName);
    const selector = { [LABEL_MANAGED]: "true", [LABEL_SERVICE]: spec.serviceId };
    const image = spec.image ?? opts.defaultImage;
    if (!isImageRef(image)) throw new AppError("bad_request", `service ${spec.serviceName}: ${image ? `image ${JSON.stringify(String(image).slice(0, 80))} is not an image reference` : "no image for the Kubernetes runtime"}`);
    if (!Number.isInteger(spec.replicas) || spec.replicas < 0 || spec.replicas > 1000) throw new AppError("bad_request", "replicas must be a whole number from 0 to 1000");
    for (const p of [spec.dataPort, spec.adminPort]) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new AppError("bad_request", `port ${p} is not a port`);
    if (spec.dataPort === spec.adminPort) throw new AppError("bad_request", "the data and admin ports must differ");
    const command = spec.command ?? [];
    if (command.length > 64 || !command.every((a) => typeof a === "string" && a.length <= 4096 && !a.includes("\0"))) throw new AppError("bad_request", "command: at most 64 strings of at most 4096 characters, no NUL");
    if (!/^[A-Za-z0-9_-]{8,256}$/.test(spec.adminToken)) throw new AppError("bad_request", "admin token: 8 to 256 of [A-Za-z0-9_-]");
    if (!(spec.memoryLimitMb >= 0 && spec.memoryLimitMb <= 1024 * 1024)) throw new AppError("bad_request", "memory limit out of range");
    if (spec.cpuLimit !== null && !(spec.cpuLimit > 0 && spec.cpuLimit <= 256)) throw new AppError("bad_request", "cpu limit out of range");

    const all = replicaEnv({ ...spec, replicaId: name }, { dataPort: spec.dataPort, adminPort: spec.adminPort, bindHost: "0.0.0.0" });
    delete all.ADMIN_TOKEN;
    delete all.REPLICA_ID;
    for (const [k, v] of Object.entries(all)) {
      if (!isEnvName(k)) throw new AppError("bad_request", `environment variable name ${JSON.stringify(k.slice(0, 80))} is not allowed`);
      if (typeof v !== "string" || v.length > 32_768) throw new AppError("bad_request", `environment variable ${k}: a string of at most 32768 characters`);
    }
    const secretName = `${name}-admin`;
    const env = [
      ...Object.entries(all).map(([k, v]) => ({ name: k, value: v })),
      // each pod says which one it is (the replica app puts REPLICA_ID in /health and its headers)
      { name: "REPLICA_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "ADMIN_TOKEN", valueFrom: { secretKeyRef: { name: secretName, key: "ADMIN_TOKEN" } } },
    ];
    const limits: Record<string, string> = {};
    if (spec.memoryLimitMb > 0) limits.memory = `${Math.round(spec.memoryLimitMb)}Mi`;
    if (spec.cpuLimit) limits.cpu = `${Math.max(1, Math.round(spec.cpuLimit * 1000))}m`;

    const template = {
      metadata: { labels },
      spec: {
        terminationGracePeriodSeconds: graceSeconds,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: spec.allowRoot ? {} : { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 },
        containers: [
          {
            name: CONTAINER,
            image,
            ...(command.length > 0 ? { args: command } : {}),
            env,
            ports: [
              { name: DATA_PORT_NAME, containerPort: spec.dataPort, protocol: "TCP" },
              { name: ADMIN_PORT_NAME, containerPort: spec.adminPort, protocol: "TCP" },
            ],
            readinessProbe: { httpGet: { path: "/health", port: DATA_PORT_NAME }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 2, successThreshold: 1 },
            // the balancer sees the endpoint terminating and drains it before the replica gets SIGTERM
            lifecycle: { preStop: { sleep: { seconds: drainSeconds } } },
            resources: { limits },
          },
        ],
      },
    };
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: spec.replicas,
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        progressDeadlineSeconds,
        revisionHistoryLimit: 10,
        template,
      },
    };
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: ns, labels },
      spec: {
        clusterIP: "None",
        selector,
        ports: [
          { name: DATA_PORT_NAME, port: spec.dataPort, targetPort: DATA_PORT_NAME, protocol: "TCP" },
          { name: ADMIN_PORT_NAME, port: spec.adminPort, targetPort: ADMIN_PORT_NAME, protocol: "TCP" },
        ],
      },
    };
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: secretName, namespace: ns, labels }, type: "Opaque", stringData: { ADMIN_TOKEN: spec.adminToken } };
    return { name, deployment, service, secret, template };
  }

  async function createOrKeep(path: string, body: unknown): Promise<boolean> {
    try {
      await client.request("POST", path, body);
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) return false;
      throw e;
    }
  }

  /**
   * The Deployment, its Service and its Secret, created, or brought in line with `spec`
   * (the template and labels; a running Deployment keeps its replica count: scale() owns it).
   */
  async function ensureService(spec: KubeServiceSpec): Promise<{ id: string; name: string; created: boolean }> {
    const { name, deployment, service, secret, template } = objectsOf(spec);
    const existing = await client.request<Deployment | null>("GET", `${apps}/deployments/${name}`, undefined, { allow404: true });
    if (existing && existing.metadata.labels?.[LABEL_SERVICE] !== spec.serviceId) {
      throw new AppError("conflict", `Deployment ${name} in namespace ${ns} exists and is not this service's (label ${LABEL_SERVICE}=${existing.metadata.labels?.[LABEL_SERVICE] ?? "none"})`);
    }
    if (!(await createOrKeep(`${core}/secrets`, secret))) await client.request("PUT", `${core}/secrets/${secret.metadata.name}`, secret);
    await createOrKeep(`${core}/services`, service);
    if (!existing) {
      const made = await client.request<Deployment>("POST", `${apps}/deployments`, deployment);
      return { id: made.metadata.uid ?? "", name, created: true };
    }
    // a changed template starts a rolling update (maxSurge 1, maxUnavailable 0); an unchanged one changes nothing
    await client.request("PATCH", `${apps}/deployments/${name}`, { metadata: { labels: deployment.metadata.labels }, spec: { template, progressDeadlineSeconds } }, { contentType: "application/merge-patch+json" });
    return { id: existing.metadata.uid ?? "", name, created: false };
  }

  /** Set the number of replicas through the scale subresource; a 409 is re-read and retried. Returns the attempts. */
  async function scale(serviceId: string, replicas: number): Promise<{ attempts: number; conflicts: number }> {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 1000) throw new AppError("bad_request", "replicas must be a whole number from 0 to 1000");
    const name = (await mustFind(serviceId)).metadata.name;
    const path = `${apps}/deployments/${name}/scale`;
    for (let attempt = 1; ; attempt++) {
      const current = await client.request<Scale>("GET", path);
      const body = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name, namespace: ns, resourceVersion: current.metadata.resourceVersion }, spec: { replicas } };
      try {
        await client.request("PUT", path, body);
        return { attempts: attempt, conflicts: attempt - 1 };
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 409) || attempt >= maxAttempts) throw e;
      }
    }
  }

  /** The replicas of a service: its EndpointSlices joined with its pods. */
  async function replicas(serviceId: string): Promise<KubeReplica[]> {
    const d = await findDeployment(serviceId);
    if (!d) return [];
    const [slices, pods] = await Promise.all([
      client.request<List<EndpointSlice>>("GET", `${discovery}/endpointslices?${q(`${SERVICE_NAME_LABEL}=${d.metadata.name}`)}`),
      client.request<List<Pod>>("GET", `${core}/pods?${q(labelSelector({ ...managed, [LABEL_SERVICE]: serviceId }))}`),
    ]);
    return replicasFromSlices(slices.items, pods.items, { data: DATA_PORT_NAME, admin: ADMIN_PORT_NAME });
  }

  /** Wait until exactly `count` replicas are ready and none is starting, pending or draining. */
  async function waitReady(serviceId: string, count: number, timeoutMs = 60_000): Promise<KubeReplica[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await replicas(serviceId);
      if (list.length === count && list.every((r) => r.state === "ready")) return list;
      if (Date.now() > deadline) {
        throw new AppError("runtime_error", `Deployment of ${serviceId} did not settle at ${count} ready replicas in ${timeoutMs} ms: ${list.map((r) => `${r.pod}:${r.state}`).join(", ") || "none"}`);
      }
      await sleep(200);
    }
  }

  /** The replica count the Deployment holds (its spec), null when there is none. */
  async function status(serviceId: string): Promise<{ desired: number | null; rollout: KubeRollout | null }> {
    const d = await findDeployment(serviceId);
    return { desired: d ? (d.spec.replicas ?? 1) : null, rollout: d ? deploymentRollout(d) : null };
  }

  /** Where the Deployment's rolling update stands (lib/core/kubernetes.ts deploymentRollout). */
  async function rollout(serviceId: string): Promise<KubeRollout> {
    return deploymentRollout(await mustFind(serviceId));
  }

  type ReplicaSet = { metadata: Meta & { annotations?: Record<string, string> }; spec: { template: { metadata?: { labels?: Record<string, string> }; spec: unknown } } };

  /**
   * kubectl's undo: the template of the ReplicaSet with the highest revision below the
   * current one is written back into the Deployment (which rolls to it as to any template).
   * Returns the revision gone back to; refused when there is no earlier one.
   */
  async function rollback(serviceId: string): Promise<{ toRevision: number; fromRevision: number | null }> {
    const d = await mustFind(serviceId);
    const current = deploymentRollout(d).revision;
    const sets = await client.request<List<ReplicaSet>>("GET", `${apps}/replicasets?${q(labelSelector({ ...managed, [LABEL_SERVICE]: serviceId }))}`);
    const prev = previousRevision(sets.items, current);
    if (!prev) throw new AppError("conflict", `Deployment ${d.metadata.name} has no earlier revision to go back to (current ${current ?? "unknown"})`);
    const labels = { ...(prev.spec.template.metadata?.labels ?? {}) };
    delete labels["pod-template-hash"];
    const template = { metadata: { labels: checkedLabels(labels) }, spec: prev.spec.template.spec };
    await client.request("PATCH", `${apps}/deployments/${d.metadata.name}`, { spec: { template } }, { contentType: "application/merge-patch+json" });
    return { toRevision: Number(prev.metadata.annotations?.["deployment.kubernetes.io/revision"]), fromRevision: current };
  }

  /** The service's pods as cluster members (lib/runtime/cluster.ts), draining ones included while they serve. */
  async function members(serviceId: string): Promise<ClusterMember[]> {
    return (await replicas(serviceId)).map(toMember);
  }

  /**
   * The cluster's nodes (GET /api/v1/nodes: a cluster-scope read, so a ClusterRole; a token
   * without it gets the API's 403 in words): role from the node-role labels, state from the
   * Ready condition, a cordoned node as "drain".
   */
  async function nodes(): Promise<ClusterNode[]> {
    type NodeObj = { metadata: Meta & { uid?: string }; spec?: { unschedulable?: boolean }; status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] } };
    const list = await client.request<List<NodeObj>>("GET", "/api/v1/nodes");
    return list.items.map((n) => {
      const labels = n.metadata.labels ?? {};
      const ready = n.status?.conditions?.find((c) => c.type === "Ready")?.status;
      return {
        // the API's id parameter is [a-z0-9]{1,40}: the uid without its dashes (a UUID: 32 hex digits)
        id: nodeIdOf(n.metadata.uid ?? "", n.metadata.name),
        name: n.metadata.name,
        role: "node-role.kubernetes.io/control-plane" in labels ? "control-plane" : "worker",
        state: ready === "True" ? "ready" : ready === "False" ? "not-ready" : "unknown",
        availability: n.spec?.unschedulable ? "drain" : "active",
        addr: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "",
      };
    });
  }

  /**
   * A node's availability as Swarm words it, the Kubernetes way: "pause" cordons it (no new
   * pods), "drain" cordons it and evicts this panel's pods on it through the Eviction API
   * (policy/v1: PodDisruptionBudgets are honoured; a refused eviction, 429, is retried up to
   * 5 times, then reported), "active" uncordons it. Returns the pods evicted.
   */
  async function setNodeAvailability(nodeId: string, availability: "active" | "drain" | "pause"): Promise<{ attempts: number; evicted: string[] }> {
    const node = (await nodes()).find((n) => n.id === nodeId || n.name === nodeId);
    if (!node || !isPodName(node.name)) throw new AppError("not_found", `no node ${String(nodeId).slice(0, 80)} in the cluster`);
    await client.request("PATCH", `/api/v1/nodes/${node.name}`, { spec: { unschedulable: availability === "active" ? null : true } }, { contentType: "application/merge-patch+json" });
    const evicted: string[] = [];
    let attempts = 1;
    if (availability === "drain") {
      const pods = (await client.request<List<Pod>>("GET", `${core}/pods?${q(managedSelector)}`)).items.filter((p) => p.spec?.nodeName === node.name && !p.metadata.deletionTimestamp);
      for (const p of pods) {
        for (let attempt = 1; ; attempt++) {
          try {
            await client.request("POST", `${core}/pods/${p.metadata.name}/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata.name, namespace: ns } });
            evicted.push(p.metadata.name);
            break;
          } catch (e) {
            if (e instanceof KubeApiError && e.status === 404) break; // gone already
            if (!(e instanceof KubeApiError && e.status === 429) || attempt >= 5) throw new AppError("conflict", `node ${node.name} cordoned, but pod ${p.metadata.name} was not evicted: ${(e as Error).message}`);
            attempts = Math.max(attempts, attempt + 1);
            await sleep(1000);
          }
        }
      }
    }
    return { attempts, evicted };
  }

  /** The last lines of one pod's log (pods/{name}/log?tailLines=N), when the pod is the service's. */
  async function memberLogs(serviceId: string, pod: string, lines: number): Promise<string[]> {
    if (!isPodName(pod)) throw new AppError("bad_request", "not a pod name");
    const p = await client.request<Pod | null>("GET", `${core}/pods/${pod}`, undefined, { allow404: true });
    if (!p || p.metadata.labels?.[LABEL_SERVICE] !== serviceId || p.metadata.labels?.[LABEL_MANAGED] !== "true") throw new AppError("not_found", `no pod ${pod} of service ${serviceId}`);
    const n = Math.max(1, Math.min(1000, Math.floor(lines) || 1));
    const text = await client.requestText("GET", `${core}/pods/${pod}/log?container=${CONTAINER}&tailLines=${n}`, undefined, { allow404: true });
    return (text ?? "").split("\n").filter(Boolean).slice(-n);
  }

  /** Delete one pod of the service (graceful: it drains, then stops); the Deployment replaces it. */
  async function deletePod(serviceId: string, pod: string): Promise<void> {
    if (!isPodName(pod)) throw new AppError("bad_request", "not a pod name");
    const p = await client.request<Pod | null>("GET", `${core}/pods/${pod}`, undefined, { allow404: true });
    if (!p || p.metadata.labels?.[LABEL_SERVICE] !== serviceId || p.metadata.labels?.[LABEL_MANAGED] !== "true") throw new AppError("not_found", `no pod ${pod} of service ${serviceId}`);
    await client.request("DELETE", `${core}/pods/${p.metadata.name}`, undefined, { allow404: true });
  }

  /** The Deployment (its pods with it), the Service and the Secret. */
  async function removeService(serviceId: string): Promise<void> {
    const d = await findDeployment(serviceId);
    if (!d) return;
    const name = d.metadata.name;
    await client.request("DELETE", `${apps}/deployments/${name}?propagationPolicy=Background`, undefined, { allow404: true });
    await client.request("DELETE", `${core}/services/${name}`, undefined, { allow404: true });
    await client.request("DELETE", `${core}/secrets/${name}-admin`, undefined, { allow404: true });
  }

  let metricsCache: { at: number; value: Promise<Map<string, { cpuPercent: number; memoryBytes: number }>> } | null = null;
  /** Every managed pod's usage from metrics.k8s.io (cached 1 s); empty when the API is absent or refuses. */
  function podMetrics(): Promise<Map<string, { cpuPercent: number; memoryBytes: number }>> {
    if (metricsCache && Date.now() - metricsCache.at < 1000) return metricsCache.value;
    const value = client
      .request<List<PodMetrics> | null>("GET", `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods?${q(managedSelector)}`, undefined, { allow404: true })
      .then((list) => {
        const out = new Map<string, { cpuPercent: number; memoryBytes: number }>();
        for (const m of list?.items ?? []) {
          const u = podUsage(m);
          if (u && isPodName(m.metadata?.name)) out.set(m.metadata.name, u);
        }
        return out;
      })
      .catch(() => new Map<string, { cpuPercent: number; memoryBytes: number }>());
    metricsCache = { at: Date.now(), value };
    return value;
  }

  function portsOf(d: Deployment): { data: number; admin: number } {
    const ports = d.spec.template.spec.containers[0]?.ports ?? [];
    return { data: ports.find((p) => p.name === DATA_PORT_NAME)?.containerPort ?? 0, admin: ports.find((p) => p.name === ADMIN_PORT_NAME)?.containerPort ?? 0 };
  }

  function toReplica(d: Deployment, r: KubeReplica): RuntimeReplica {
    const labels = d.metadata.labels ?? {};
    const ports = portsOf(d);
    const host = r.address ?? "";
    const state: RuntimeReplicaState = r.phase === "Running" ? "running" : r.phase === "Pending" ? "created" : r.phase === "Failed" || r.phase === "Succeeded" ? "exited" : "unknown";
    return {
      replicaId: r.pod,
      serviceId: labels[LABEL_SERVICE] ?? "",
      serviceName: labels[LABEL_SERVICE_NAME] ?? "",
      runtimeRef: r.pod,
      dataAddr: { host, port: r.dataPort ?? ports.data },
      adminAddr: { host, port: r.adminPort ?? ports.admin },
      state,
      startedAt: r.startedAt ?? new Date(0),
      exitCode: null,
      oomKilled: Boolean(r.lastExit?.startsWith("OOMKilled")),
      reason: r.terminating ? "terminating (draining)" : r.lastExit,
    };
  }

  async function managedDeployments(): Promise<Deployment[]> {
    return (await client.request<List<Deployment>>("GET", `${apps}/deployments?${q(managedSelector)}`)).items;
  }

  // ---- watches ------------------------------------------------------------------------

  const hub = createEventHub({ watch: () => startWatching(), unwatch: () => stopWatching() });
  const changeListeners = new Set<(c: KubeChange) => void>();
  const watchStats = { relists: 0, resumes: 0, events: 0, gone: 0, errors: 0, lastError: null as string | null };
  let watching: AbortController | null = null;

  function emitChange(c: KubeChange) {
    for (const l of [...changeListeners]) {
      try {
        l(c);
      } catch {
        /* a listener's bug must not stop the watch */
      }
    }
  }

  /** What a pod's watch events mean for the Runtime port's listeners. */
  const knownPods = new Map<string, { uid: string; restarts: number; serviceId: string }>();
  function podSeen(type: "ADDED" | "MODIFIED" | "DELETED", pod: Pod, quiet: boolean) {
    const name = pod.metadata.name;
    const serviceId = pod.metadata.labels?.[LABEL_SERVICE] ?? "";
    const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const before = knownPods.get(name);
    if (type === "DELETED") {
      knownPods.delete(name);
      if (!quiet) hub.emit({ kind: "died", replicaId: name, serviceId, reason: "pod deleted" });
    } else {
      knownPods.set(name, { uid: pod.metadata.uid ?? "", restarts, serviceId });
      if (!quiet && (!before || before.uid !== pod.metadata.uid)) hub.emit({ kind: "started", replicaId: name, serviceId });
      else if (!quiet && before && restarts > before.restarts) {
        const last = pod.status?.containerStatuses?.find((c) => c.lastState?.terminated)?.lastState?.terminated;
        hub.emit({ kind: last?.reason === "OOMKilled" ? "oom" : "died", replicaId: name, serviceId, exitCode: last?.exitCode ?? null, reason: last ? `${last.reason ?? "terminated"} (exit code ${last.exitCode ?? "?"}), restarted` : "restarted" });
      }
    }
    emitChange({ kind: "pod", type, name, serviceId: serviceId || null });
  }

  /**
   * One kind's list-then-watch loop: resumes from the last resourceVersion; a 410 Gone (as an
   * HTTP answer or an ERROR event) relists. The server ends each watch after a minute
   * (timeoutSeconds=60) and it is resumed, so a silently dead connection is noticed by the
   * client's idle limit (90 s) rather than never.
   */
  async function watchLoop<T extends { metadata: Meta }>(path: string, sync: (items: T[], first: boolean) => void, onEvent: (type: "ADDED" | "MODIFIED" | "DELETED", obj: T) => void, signal: AbortSignal) {
    let rv: string | null = null;
    let first = true;
    let backoff = 250;
    while (!signal.aborted) {
      try {
        if (rv === null) {
          const list = await client.request<List<T>>("GET", path);
          rv = list.metadata.resourceVersion ?? "0";
          sync(list.items, first);
          if (!first) watchStats.relists++;
          first = false;
        } else watchStats.resumes++;
        let gone = false;
        let failed: string | null = null;
        await client.watch<T | { code?: number; message?: string }>(
          `${path}&watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}&timeoutSeconds=60`,
          (ev: WatchEvent<T | { code?: number; message?: string }>) => {
            if (gone || failed) return;
            if (ev.type === "ERROR") {
              const st = ev.object as { code?: number; message?: string };
              if (st.code === 410) {
                gone = true;
                watchStats.gone++;
                rv = null;
              } else failed = `watch ${path}: ${st.message ?? "error event"} (${st.code ?? "no code"})`;
              return;
            }
            const obj = ev.object as T;
            if (obj.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
            if (ev.type === "BOOKMARK") return;
            watchStats.events++;
            onEvent(ev.type, obj);
          },
          { signal },
        );
        if (failed) throw new AppError("runtime_error", failed);
        backoff = 250;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof KubeApiError && e.status === 410) {
          watchStats.gone++;
          rv = null;
          continue;
        }
        watchStats.errors++;
        watchStats.lastError = (e as Error).message;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  function startWatching() {
    if (watching) return;
    const ctl = new AbortController();
    watching = ctl;
    const podsPath = `${core}/pods?${q(managedSelector)}`;
    const slicesPath = `${discovery}/endpointslices?${q(managedSelector)}`;
    void watchLoop<Pod & { metadata: Meta }>(
      podsPath,
      (items, first) => {
        // a relist: what changed while the watch was away, told as events
        const names = new Set(items.map((p) => p.metadata.name));
        for (const name of [...knownPods.keys()]) if (!names.has(name)) podSeen("DELETED", { metadata: { name, labels: { [LABEL_SERVICE]: knownPods.get(name)!.serviceId } } }, first);
        for (const p of items) podSeen(knownPods.has(p.metadata.name) ? "MODIFIED" : "ADDED", p, first);
      },
      (type, pod) => podSeen(type, pod, false),
      ctl.signal,
    );
    void watchLoop<EndpointSlice & { metadata: Meta }>(
      slicesPath,
      (items, first) => {
        if (!first) for (const s of items) emitChange({ kind: "endpointslice", type: "MODIFIED", name: s.metadata.name, serviceId: s.metadata.labels?.[LABEL_SERVICE] ?? null });
      },
      (type, s) => emitChange({ kind: "endpointslice", type, name: s.metadata.name, serviceId: s.metadata.labels?.[LABEL_SERVICE] ?? null }),
      ctl.signal,
    );
  }

  function stopWatching() {
    if (changeListeners.size > 0 || hub.size() > 0) return;
    watching?.abort();
    watching = null;
  }

  const runtime = {
    kind: "kubernetes" as const,

    /** Is the API there, is it Kubernetes, and may this token read the namespace's Deployments? */
    async available() {
      try {
        const v = await client.request<{ gitVersion?: string }>("GET", "/version");
        if (!v || typeof v.gitVersion !== "string") return { ok: false as const, reason: `${client.where} does not answer /version as a Kubernetes API server` };
        await client.request("GET", `${apps}/deployments?limit=1`);
        return { ok: true as const, version: v.gitVersion };
      } catch (e) {
        return { ok: false as const, reason: (e as Error).message };
      }
    },

    /** Every pod of this panel's Deployments, one replica each (draining ones too, with their reason). */
    async list() {
      const out: RuntimeReplica[] = [];
      for (const d of await managedDeployments()) {
        const id = d.metadata.labels?.[LABEL_SERVICE];
        if (!id) continue;
        for (const r of await replicas(id)) out.push(toReplica(d, r));
      }
      return out;
    },

    ...refusedReplicaLifecycle("kubernetes", "a Deployment owns its pods; scale the service instead"),

    /** A pod by name (runtimeRef), when it is one of this panel's. */
    async inspect(ref: string) {
      if (!isPodName(ref)) return null;
      const p = await client.request<Pod | null>("GET", `${core}/pods/${ref}`, undefined, { allow404: true });
      const id = p?.metadata.labels?.[LABEL_SERVICE];
      if (!p || p.metadata.labels?.[LABEL_MANAGED] !== "true" || !id) return null;
      const d = await findDeployment(id);
      return d ? (toReplica(d, (await replicas(id)).find((r) => r.pod === ref) ?? replicasFromSlices([], [p], { data: DATA_PORT_NAME, admin: ADMIN_PORT_NAME })[0]) ?? null) : null;
    },

    /**
     * A pod's CPU and memory from the metrics API (metrics.k8s.io, served by metrics-server):
     * one list of this panel's pods per second, shared by every pod's call. Null when the
     * cluster has no metrics API (404), may not read it, or has no sample for the pod yet:
     * the replica card then says "no metrics".
     */
    async stats(ref: string) {
      if (!isPodName(ref)) return null;
      const usage = (await podMetrics()).get(ref);
      if (!usage) return null;
      // the container's memory limit is the kubelet's to enforce (OOMKilled past it); the card shows the service's
      return { memoryBytes: usage.memoryBytes, memoryLimitBytes: null, memoryLimitEnforced: true, cpuPercent: usage.cpuPercent, at: Date.now() };
    },
    /** A pod's last lines (runtimeRef is the pod name), when it is one of this panel's. */
    async logs(ref: string, lines: number) {
      if (!isPodName(ref)) return [];
      const p = await client.request<Pod | null>("GET", `${core}/pods/${ref}`, undefined, { allow404: true });
      const id = p?.metadata.labels?.[LABEL_SERVICE];
      return p && id ? memberLogs(id, ref, lines) : [];
    },
    onEvent(listener: (e: RuntimeEvent) => void) {
      return hub.on(listener);
    },

    // Kubernetes-specific
    ensureService,
    scale,
    status,
    rollout,
    rollback,
    members,
    memberLogs,
    nodes,
    setNodeAvailability,
    replicas,
    waitReady,
    deletePod,
    removeService,
    /** Every change the watches see (pods, EndpointSlices), relists included. */
    onChange(listener: (c: KubeChange) => void): () => void {
      changeListeners.add(listener);
      startWatching();
      return () => {
        changeListeners.delete(listener);
        stopWatching();
      };
    },
    watchStats: () => ({ ...watchStats }),
    namespace: ns,
    close() {
      changeListeners.clear();
      watching?.abort();
      watching = null;
      client.close();
    },
  } satisfies Runtime & Record<string, unknown>;

  return runtime;
}

export type KubernetesRuntime = ReturnType<typeof createKubernetesRuntime>;

/** A node's id for the panel's API ([a-z0-9], at most 40): its uid without dashes, else one derived from its name. */
export function nodeIdOf(uid: string, name: string): string {
  const plain = uid.toLowerCase().replace(/-/g, "");
  return /^[a-z0-9]{1,40}$/.test(plain) ? plain : memberIdOf(name);
}

/** A pod as a member of the service-level port: ready and serving as its endpoint says. */
export function toMember(r: KubeReplica): ClusterMember {
  const addr = (port: number | null) => (r.address && port ? { host: r.address, port } : null);
  const state: ClusterMember["state"] =
    r.phase === "Failed" ? "failed" : r.state === "draining" ? "stopping" : r.state === "pending" || r.phase === "Pending" ? "starting" : "running";
  return {
    id: memberIdOf(r.pod),
    ref: r.pod,
    slot: null,
    node: r.node,
    containerId: null,
    dataAddr: addr(r.dataPort),
    adminAddr: addr(r.adminPort),
    state,
    ready: r.ready,
    serving: r.serving,
    error: r.ready ? null : r.lastExit,
    startedAt: r.startedAt ?? new Date(0),
  };
}

/** The Kubernetes runtime through the service-level port (lib/runtime/cluster.ts). */
export function kubernetesCluster(rt: KubernetesRuntime): ClusterRuntime & { kubernetes: KubernetesRuntime } {
  return {
    kind: "kubernetes",
    kubernetes: rt,
    available: async () => {
      const a = await rt.available();
      return a.ok ? { ok: true as const } : a;
    },
    ensureService: (spec) => rt.ensureService(spec),
    scale: async (id, n) => ({ attempts: (await rt.scale(id, n)).attempts }),
    status: async (id) => {
      const { desired, rollout } = await rt.status(id);
      // a rolling update is told once there has been one (revision 2 on); stalled is never done
      return rollout && rollout.revision !== null && rollout.revision > 1 ? { desired, update: { outcome: rollout.outcome, message: rollout.message } } : { desired };
    },
    members: (id) => rt.members(id),
    removeService: (id) => rt.removeService(id),
    rollback: async (id) => {
      const r = await rt.rollback(id);
      return { message: `the Deployment's template is revision ${r.toRevision}'s again (kubectl's undo; revision ${r.fromRevision ?? "?"} was current)` };
    },
    memberLogs: (id, ref, lines) => rt.memberLogs(id, ref, lines),
    nodes: () => rt.nodes(),
    setNodeAvailability: async (id, availability) => ({ attempts: (await rt.setNodeAvailability(id, availability)).attempts }),
    watch: (listener) => rt.onChange((c) => listener(c.serviceId)),
  } satisfies ClusterRuntime & { kubernetes: KubernetesRuntime };
}
