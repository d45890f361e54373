/**
 * The Runtime port: what runs replicas (child processes or Docker containers).
 * A runtime only ever lists or touches replicas carrying its labels.
 */

/**
 * "external": instances given by address (lib/runtime/external.ts); the panel starts none.
 * "swarm" (experimental): the tasks of a Swarm service (lib/runtime/swarm.ts), through SWARM_MANAGER.
 * "kubernetes" (experimental): the pods of a Deployment (lib/runtime/kubernetes.ts), through KUBERNETES_API.
 */
export type RuntimeKind = "process" | "docker" | "external" | "swarm" | "kubernetes";

export const LABEL_MANAGED = "switchyard.managed";
export const LABEL_SERVICE = "switchyard.service";
export const LABEL_SERVICE_NAME = "switchyard.service-name";
export const LABEL_REPLICA = "switchyard.replica";

export type Address = { host: string; port: number };

export type ReplicaSpec = {
  serviceId: string;
  serviceName: string;
  replicaId: string;
  /** docker: image reference */
  image?: string;
  /** process: argv (argv[0] is the program); docker: optional command override */
  command?: string[];
  /** environment passed to the replica (PORT, ADMIN_PORT, ADMIN_TOKEN, REPLICA_ID ... are added by the runtime) */
  env: Record<string, string>;
  /** port the app listens on for data inside a container (bridge mode); host mode and process allocate from the range */
  dataPort: number;
  adminPort: number;
  adminToken: string;
  memoryLimitMb: number;
  /** where the replica's /health turns 503, in percent of memoryLimitMb (MEMORY_THRESHOLD_PERCENT); absent: the replica app's default, 80 */
  memoryThresholdPercent?: number;
  /** CPU cores, e.g. 0.5 */
  cpuLimit: number | null;
  /** docker: keep an image's root user (an admin's per-service choice); otherwise such an image runs as 65534. Process replicas never run as root. */
  allowRoot?: boolean;
};

export type RuntimeReplicaState = "running" | "exited" | "created" | "unknown";

export type RuntimeReplica = {
  replicaId: string;
  serviceId: string;
  serviceName: string;
  /** container id or pid */
  runtimeRef: string;
  dataAddr: Address;
  adminAddr: Address;
  state: RuntimeReplicaState;
  startedAt: Date;
  exitCode: number | null;
  oomKilled: boolean;
  /**
   * Why it is not running, in words for an operator (out of memory, port already in use,
   * killed, exit code), when the runtime knows. inspect() also looks at the last log lines.
   */
  reason?: string | null;
};

export type ReplicaStats = {
  memoryBytes: number;
  memoryLimitBytes: number | null;
  /**
   * Does the runtime hold the replica to memoryLimitBytes (it is killed past it)? Docker
   * always; the process runtime where it could put the replica in a cgroup of its own
   * with that limit, else false: the figure is then only what /health judges against.
   */
  memoryLimitEnforced: boolean;
  /** percent of one core (100 = one full core) */
  cpuPercent: number;
  at: number;
};

export type RuntimeEvent = {
  kind: "died" | "oom" | "started";
  replicaId: string;
  serviceId: string;
  exitCode?: number | null;
  /** for "died"/"oom": what the runtime knows about why (see RuntimeReplica.reason) */
  reason?: string;
};

import type { KillSignal } from "@/lib/core/faults";

export type { KillSignal };

/**
 * The cgroup folders a helper process (a stressor) joins so that what it uses counts
 * against the replica's own limits and shows in the replica's own figures; or why the
 * replica has none here.
 */
export type ReplicaCgroups = { ok: true; version: 1 | 2; dirs: string[] } | { ok: false; reason: string };

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Is this runtime usable here (docker daemon reachable ...)? Returns a reason when not. */
  available(): Promise<{ ok: true } | { ok: false; reason: string }>;
  list(): Promise<RuntimeReplica[]>;
  create(spec: ReplicaSpec): Promise<RuntimeReplica>;
  /** graceful stop: SIGTERM, then SIGKILL after graceMs */
  stop(ref: string, graceMs: number): Promise<void>;
  remove(ref: string): Promise<void>;
  restart(ref: string): Promise<RuntimeReplica>;
  inspect(ref: string): Promise<RuntimeReplica | null>;
  /** Must not block for long: may return the last cached value. */
  stats(ref: string): Promise<ReplicaStats | null>;
  logs(ref: string, lines: number): Promise<string[]>;
  /** Subscribe to runtime events (die, oom). Returns an unsubscribe function. */
  onEvent(listener: (e: RuntimeEvent) => void): () => void;
  /** Freeze the replica (docker pause; SIGSTOP to a process replica's group). Faults (lib/faults). */
  pause?(ref: string): Promise<void>;
  /** Undo pause (docker unpause; SIGCONT). Nothing when it is not paused or gone. */
  unpause?(ref: string): Promise<void>;
  /** Is it frozen now (false when gone)? */
  isPaused?(ref: string): Promise<boolean>;
  /** Send a signal to the replica (docker kill --signal; the process group). */
  signal?(ref: string, signal: KillSignal): Promise<void>;
  /** Where a stressor joins so that it counts against this replica's limits. */
  cgroupsOf?(ref: string): Promise<ReplicaCgroups>;
}
