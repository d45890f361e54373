/**
 * Kubernetes, the pure part (no I/O): the names and labels the Kubernetes runtime writes,
 * checked before any request, and how a service's replicas are read from its EndpointSlices
 * joined with its pods (lib/runtime/kubernetes.ts does the requests).
 *
 * Every check below is a character class with a bounded count plus first/last-character
 * tests: nothing that can backtrack.
 */
import { createHash } from "node:crypto";
import { AppError } from "./errors";

/** RFC 1123 label (a namespace, a Deployment or Service name): [a-z0-9-], 1..63, alphanumeric at both ends. */
export function isDnsLabel(s: unknown): s is string {
  return typeof s === "string" && /^[a-z0-9-]{1,63}$/.test(s) && isAlnum(s[0]) && isAlnum(s[s.length - 1]);
}

/** A pod name (RFC 1123 subdomain): [a-z0-9.-], 1..253, alphanumeric at both ends, no empty or dot-dot segment. */
export function isPodName(s: unknown): s is string {
  return typeof s === "string" && /^[a-z0-9.-]{1,253}$/.test(s) && isAlnum(s[0]) && isAlnum(s[s.length - 1]) && !s.includes("..");
}

/** A label value: [A-Za-z0-9._-], 0..63, alphanumeric at both ends when not empty. */
export function isLabelValue(s: unknown): s is string {
  if (typeof s !== "string") return false;
  if (s === "") return true;
  return /^[A-Za-z0-9._-]{1,63}$/.test(s) && isAlnum(s[0].toLowerCase()) && isAlnum(s[s.length - 1].toLowerCase());
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "0" && c <= "9"));
}

export const KUBE_PREFIX = "sy-";

/** `sy-<service name>`: the Deployment and the headless Service of a panel service (a DNS label, with room for pod suffixes). */
export function kubeObjectName(serviceName: string): string {
  if (!isDnsLabel(serviceName) || serviceName.length > 47) {
    throw new AppError("bad_request", `service name ${JSON.stringify(String(serviceName).slice(0, 80))} cannot name a Kubernetes Deployment (lowercase letters, digits and '-', at most 47)`);
  }
  return `${KUBE_PREFIX}${serviceName}`;
}

/** Labels the runtime writes: every key is one of ours, every value checked; refuses before any request. */
export function checkedLabels(labels: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!/^switchyard\.[a-z-]{1,40}$/.test(k)) throw new AppError("bad_request", `label key ${JSON.stringify(k.slice(0, 80))} is not one of the panel's`);
    if (!isLabelValue(v)) throw new AppError("bad_request", `label ${k}: value ${JSON.stringify(String(v).slice(0, 80))} is not a Kubernetes label value ([A-Za-z0-9._-], at most 63, alphanumeric at both ends)`);
  }
  return labels;
}

/** `k=v,k2=v2` from checked labels (equality only). */
export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(checkedLabels(labels))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** An environment variable name a pod accepts (C identifier-like, as the panel's own env rules). */
export function isEnvName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/.test(s);
}

/** An image reference: a conservative alphabet (no spaces, quotes or control characters). */
export function isImageRef(s: unknown): s is string {
  return typeof s === "string" && /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$/.test(s);
}

/**
 * The replica id the panel keys a pod's row on ([a-z0-9], at most 40, the API's id parameter):
 * "k", the pod name's random suffix, and 12 hex of a hash of the whole name. Stable while the
 * pod lives, new when the Deployment replaces it (a new pod, a new name).
 */
export function memberIdOf(pod: string): string {
  const suffix = pod.slice(pod.lastIndexOf("-") + 1).replace(/[^a-z0-9]/g, "").slice(0, 10);
  return `k${suffix}${createHash("sha256").update(pod).digest("hex").slice(0, 12)}`;
}

// ---- replicas from EndpointSlices + Pods -------------------------------------------------

export type EndpointSlice = {
  metadata: { name: string; labels?: Record<string, string> };
  addressType?: string;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
  endpoints?:
    | {
        addresses: string[];
        conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
        nodeName?: string;
        targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
      }[]
    | null;
};

export type Pod = {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: string; creationTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    startTime?: string;
    containerStatuses?: {
      name: string;
      ready?: boolean;
      restartCount?: number;
      state?: { running?: { startedAt?: string }; waiting?: { reason?: string }; terminated?: { exitCode?: number; reason?: string } };
      lastState?: { terminated?: { exitCode?: number; reason?: string; finishedAt?: string } };
    }[];
  };
};

/**
 * ready: in rotation; starting: not ready yet (or failing its probe), not terminating;
 * draining: terminating (the pod is being deleted), `serving` says whether it still answers;
 * pending: a pod with no endpoint yet (no address, not scheduled or not started).
 */
export type KubeReplicaState = "ready" | "starting" | "draining" | "pending";

export type KubeReplica = {
  pod: string;
  uid: string | null;
  node: string | null;
  address: string | null;
  dataPort: number | null;
  adminPort: number | null;
  state: KubeReplicaState;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  phase: string;
  restarts: number;
  /** why the container last ended (OOMKilled, Error, exit code), when it has */
  lastExit: string | null;
  startedAt: Date | null;
};

/**
 * The replicas of one service: every endpoint of its slices (a pod listed twice, as can happen
 * while the slice controller moves endpoints, counts once: the ready entry wins), joined with
 * its pod by targetRef name; pods without an endpoint yet are "pending". Sorted by pod name.
 */
export function replicasFromSlices(slices: EndpointSlice[], pods: Pod[], ports: { data: string; admin: string }): KubeReplica[] {
  const podByName = new Map(pods.map((p) => [p.metadata.name, p]));
  const out = new Map<string, KubeReplica>();
  for (const slice of slices) {
    if (slice.addressType && slice.addressType !== "IPv4" && slice.addressType !== "IPv6") continue;
    const portOf = (name: string) => slice.ports?.find((p) => p.name === name)?.port ?? null;
    for (const ep of slice.endpoints ?? []) {
      const name = ep.targetRef?.kind === "Pod" || ep.targetRef?.kind === undefined ? ep.targetRef?.name : undefined;
      const address = ep.addresses?.[0];
      if (!name || !address) continue;
      // the API's rule: a nil ready is true, a nil serving is ready, a nil terminating is false
      const terminating = ep.conditions?.terminating === true;
      const ready = ep.conditions?.ready ?? !terminating;
      const serving = ep.conditions?.serving ?? ready;
      const pod = podByName.get(name);
      const replica: KubeReplica = {
        ...podFacts(name, pod),
        node: ep.nodeName ?? pod?.spec?.nodeName ?? null,
        address,
        dataPort: portOf(ports.data),
        adminPort: portOf(ports.admin),
        state: terminating ? "draining" : ready ? "ready" : "starting",
        ready: ready && !terminating,
        serving,
        terminating,
      };
      const seen = out.get(name);
      if (!seen || (!seen.ready && replica.ready)) out.set(name, replica);
    }
  }
  for (const pod of pods) {
    if (out.has(pod.metadata.name)) continue;
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    out.set(pod.metadata.name, {
      ...podFacts(pod.metadata.name, pod),
      node: pod.spec?.nodeName ?? null,
      address: null,
      dataPort: null,
      adminPort: null,
      state: terminating ? "draining" : "pending",
      ready: false,
      serving: false,
      terminating,
    });
  }
  return [...out.values()].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
}

function podFacts(name: string, pod: Pod | undefined) {
  const containers = pod?.status?.containerStatuses ?? [];
  const restarts = containers.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const last = containers.find((c) => c.lastState?.terminated)?.lastState?.terminated;
  const started = containers[0]?.state?.running?.startedAt ?? pod?.status?.startTime;
  const at = started ? Date.parse(started) : NaN;
  return {
    pod: name,
    uid: pod?.metadata.uid ?? null,
    phase: pod?.status?.phase ?? "Unknown",
    restarts,
    lastExit: last ? `${last.reason ?? "terminated"} (exit code ${last.exitCode ?? "?"})` : null,
    startedAt: Number.isFinite(at) ? new Date(at) : null,
  };
}

// ---- rolling updates ------------------------------------------------------------------

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";

export type DeploymentCondition = { type: string; status: string; reason?: string; message?: string };
export type DeploymentForRollout = {
  metadata: { generation?: number; annotations?: Record<string, string> };
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
};

/** Where a Deployment's rollout stands, read as `kubectl rollout status` reads it. */
export type KubeRollout = {
  /** updating: not every pod runs the current template yet; done: all do and are available; stalled: ProgressDeadlineExceeded */
  outcome: "updating" | "done" | "stalled";
  generation: number;
  observedGeneration: number;
  desired: number;
  /** pods from the current template */
  updated: number;
  /** all pods (old and new) */
  total: number;
  ready: number;
  available: number;
  /** the current template's revision (deployment.kubernetes.io/revision), null before the controller set it */
  revision: number | null;
  /** what the Deployment's Progressing condition says (or why it is still updating) */
  message: string;
};

/**
 * The Deployment's rollout from its status (pure): as kubectl's rollout status does it, a
 * controller that has not observed the latest generation is still updating; a Progressing
 * condition with reason ProgressDeadlineExceeded is stalled (reported so, never done); done
 * needs every desired pod updated and available and no old pod left.
 */
export function deploymentRollout(d: DeploymentForRollout): KubeRollout {
  const st = d.status ?? {};
  const generation = d.metadata.generation ?? 0;
  const observedGeneration = st.observedGeneration ?? 0;
  const desired = d.spec.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const ready = st.readyReplicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const rev = Number(d.metadata.annotations?.[REVISION_ANNOTATION]);
  const progressing = (st.conditions ?? []).find((c) => c.type === "Progressing");
  const base = { generation, observedGeneration, desired, updated, total, ready, available, revision: Number.isInteger(rev) && rev > 0 ? rev : null };
  const figures = `${updated} of ${desired} updated, ${available} available${total > updated ? `, ${total - updated} old` : ""}`;
  if (observedGeneration < generation) return { ...base, outcome: "updating", message: `waiting for the Deployment's generation ${generation} to be observed (${observedGeneration})` };
  if (progressing?.reason === "ProgressDeadlineExceeded") return { ...base, outcome: "stalled", message: `stalled: ${progressing.message ?? "progress deadline exceeded"} (${figures})` };
  if (updated >= desired && total <= updated && available >= desired) return { ...base, outcome: "done", message: `${figures}${progressing?.message ? `: ${progressing.message}` : ""}` };
  return { ...base, outcome: "updating", message: figures };
}

/** The ReplicaSet a rollback re-applies (kubectl's undo): the highest revision below the current one, or null. */
export function previousRevision<T extends { metadata: { annotations?: Record<string, string> } }>(replicaSets: T[], current: number | null): T | null {
  const rev = (rs: T) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? "0") || 0;
  const below = replicaSets.filter((rs) => current !== null && rev(rs) > 0 && rev(rs) < current).sort((a, b) => rev(b) - rev(a));
  return below[0] ?? null;
}

// ---- pod metrics (metrics.k8s.io) -----------------------------------------------------

const QUANTITY = /^([0-9]{1,20})(?:\.([0-9]{1,9}))?([a-zA-Z]{0,2})$/;
const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes quantity ("250m", "123456789n", "34512Ki", "1.5Gi") as a number; null when it is not one. */
export function parseQuantity(q: unknown): number | null {
  if (typeof q !== "string") return null;
  const m = QUANTITY.exec(q);
  if (!m) return null;
  const factor = SUFFIX[m[3]];
  if (factor === undefined) return null;
  return Number(`${m[1]}${m[2] ? `.${m[2]}` : ""}`) * factor;
}

export type PodMetrics = { metadata: { name: string }; containers?: { name: string; usage?: { cpu?: string; memory?: string } }[] };

/** A pod's usage summed over its containers: CPU in percent of one core, memory in bytes; null when a figure is missing or malformed. */
export function podUsage(m: PodMetrics): { cpuPercent: number; memoryBytes: number } | null {
  const cs = m.containers ?? [];
  if (cs.length === 0) return null;
  let cores = 0;
  let bytes = 0;
  for (const c of cs) {
    const cpu = parseQuantity(c.usage?.cpu);
    const mem = parseQuantity(c.usage?.memory);
    if (cpu === null || mem === null) return null;
    cores += cpu;
    bytes += mem;
  }
  return { cpuPercent: cores * 100, memoryBytes: Math.round(bytes) };
}
