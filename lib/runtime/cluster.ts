/**
 * The service-level runtime port: a cluster engine (Docker Swarm, Kubernetes) runs a service's
 * replicas as ONE object (a Swarm service, a Deployment) whose replica count the panel sets;
 * the cluster picks where each member runs and which ones go when it scales down. So the
 * controller does not create or stop replicas one by one (the Runtime port in types.ts):
 * it sets the count, then follows the members the cluster reports (lib/controller/cluster-sync.ts).
 *
 * Adapters: lib/runtime/swarm.ts (`swarmCluster`), a Kubernetes one (Deployments; members from
 * EndpointSlices). Each declares `satisfies ClusterRuntime`.
 */
import type { ReplicaSpec } from "./types";
import type { Rules } from "@/lib/core/rules";
import type { ClusterRuntimeKind } from "@/lib/core/service";

/** The predicate lives in lib/core (pure) so the browser's components share it. */
export { isClusterRuntime } from "@/lib/core/service";

export type ClusterKind = ClusterRuntimeKind;

/** What the panel asks the cluster to run for one of its services. */
export type ClusterServiceSpec = Omit<ReplicaSpec, "replicaId"> & { replicas: number };

/**
 * One member of a cluster service (a Swarm task, a Kubernetes pod) as the cluster reports it.
 * - `id`: the replica id the panel shows and keys its row on; stable while this member lives
 *   and new when the cluster replaces it; [a-z0-9] only, at most 40 (the API's id parameter)
 *   (Swarm: `s<slot>t<the task id's first 12>`; Kubernetes: derived from the pod name).
 * - `ready`: the cluster counts it as able to take traffic (Swarm: task running with an address;
 *   Kubernetes: EndpointSlice condition ready).
 * - `serving`: it still takes traffic (Kubernetes' `serving`, true while a terminating pod drains;
 *   Swarm: same as ready).
 */
export type ClusterMember = {
  id: string;
  /** the cluster's own reference: Swarm task id, pod uid or name */
  ref: string;
  /** Swarm slot (1..n); null where the cluster has none (Kubernetes) */
  slot: number | null;
  /** the node's name (hostname) it runs on, when known */
  node: string | null;
  containerId: string | null;
  /** where the app answers, on the cluster's network (an overlay or pod address): reachable from the cluster's own balancer */
  dataAddr: { host: string; port: number } | null;
  adminAddr: { host: string; port: number } | null;
  /** starting: scheduled, not running yet; running; stopping: asked to go; failed: the cluster gave up on it (see error) */
  state: "starting" | "running" | "stopping" | "failed";
  ready: boolean;
  serving: boolean;
  /** the cluster's own words on why it failed or was rejected */
  error: string | null;
  startedAt: Date;
};

export type ClusterNode = {
  id: string;
  name: string;
  /** "manager" | "worker" (Swarm), "control-plane" | "worker" (Kubernetes) */
  role: string;
  /** Swarm: ready | down | unknown | disconnected; Kubernetes: Ready condition as ready | not-ready */
  state: string;
  /** active | drain | pause (Swarm); active | drain for a cordoned Kubernetes node */
  availability: string;
  addr: string;
};

export type ClusterServiceStatus = {
  /** the replica count the cluster holds for the service (its spec), null when there is no such service */
  desired: number | null;
  /** where the last rolling update stands; "rolled-back" is never reported as done; "stalled": no progress within the deadline (Kubernetes' ProgressDeadlineExceeded) */
  update?: { outcome: "none" | "updating" | "done" | "paused" | "stalled" | "rolling-back" | "rolled-back"; message: string | null };
};

export interface ClusterRuntime {
  readonly kind: ClusterKind;
  /** Is the cluster reachable and usable (a Swarm manager, an API server that answers)? A reason when not. */
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** Create the service with `spec.replicas` members, labelled as the panel's; nothing when it exists. */
  ensureService(spec: ClusterServiceSpec): Promise<{ id: string; name: string; created: boolean }>;
  /** Set the replica count (Swarm: versioned update retried when stale; Kubernetes: the scale subresource). */
  scale(serviceId: string, replicas: number): Promise<{ attempts: number }>;
  status(serviceId: string): Promise<ClusterServiceStatus>;
  /** The members the cluster wants running now (leaving ones included while they still serve). */
  members(serviceId: string): Promise<ClusterMember[]>;
  /** The service and everything the panel made for it (its balancer) removed; nothing when absent. */
  removeService(serviceId: string): Promise<void>;
  nodes?(): Promise<ClusterNode[]>;
  setNodeAvailability?(nodeId: string, availability: "active" | "drain" | "pause"): Promise<{ attempts: number }>;
  /** Go back to the previous version (Kubernetes: kubectl's undo, the previous ReplicaSet's template); what it did, in words. */
  rollback?(serviceId: string): Promise<{ message: string }>;
  /** Last lines of one member's log (Swarm: the task's log through the manager). */
  memberLogs?(serviceId: string, memberRef: string, lines: number): Promise<string[]>;
  /** Something about this panel's services changed (a task or pod event): `listener` gets the service id, or null for "any". */
  watch?(listener: (serviceId: string | null) => void): () => void;
  /** Remove what this panel made in the cluster for services whose row is gone (`exists` asked just before each removal); the names removed. */
  sweepOrphans?(exists: (serviceId: string) => Promise<boolean>): Promise<string[]>;
}

/** The balancer a cluster service gets from the panel, inside the cluster (Swarm: HAProxy on the overlay, swarm-balancer.ts). */
export type ClusterBalancer = {
  /** it runs with these rules (created, or updated when they changed); where it answers, and its management listener */
  ensure(serviceId: string, rules: Rules): Promise<{ host: string | null; dataPort: number; adminPort: number | null; created: boolean; updated: boolean }>;
};
