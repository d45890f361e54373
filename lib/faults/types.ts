/**
 * Faults that need nothing from the replica's app (issue 14, item 2): pause, runtime
 * stress (CPU / memory in the replica's own cgroup) and network faults (a user-space
 * proxy on the balancer → replica path). Each kind plugs into one store
 * (lib/faults/store.ts) that records what a fault changed, expires it at its time
 * limit, undoes it on Clear and finds it again after the panel or the replica restarts.
 *
 * Kill with a signal is not a lasting fault: it is an action, recorded as an event.
 */
import type { Address, RuntimeKind } from "@/lib/runtime/types";

export type FaultKindName = "pause" | "runtime-stress" | "network-fault";

/** The replica a fault acts on, as the store reads it from the database at the moment. */
export type FaultTarget = {
  replicaId: string;
  serviceId: string;
  serviceName: string;
  runtime: RuntimeKind;
  /** container id or the process runtime's reference; null while not running */
  runtimeRef: string | null;
  /** the replica's own data address (never the fault proxy's) */
  dataAddr: Address | null;
  adminAddr: Address | null;
  /** when the replica last started (a restart under the same reference changes it) */
  startedAt?: Date | null;
};

/** One recorded fault: what was asked (params) and what it changed (state). */
export type FaultRecord<P = unknown, S = unknown> = {
  id: string;
  replicaId: string;
  serviceId: string;
  kind: FaultKindName;
  params: P;
  /** what apply() changed, as it returned it: pids, cgroup paths, addresses */
  state: S;
  startedAt: Date;
  expiresAt: Date;
};

export interface FaultKind<P = unknown, S = unknown> {
  readonly name: FaultKindName;
  /** Starts the fault; returns what it changed, stored with the record. Throws AppError when it cannot. */
  apply(target: FaultTarget, params: P): Promise<S>;
  /**
   * Undoes the fault. Idempotent: what is already undone (a stressor that exited, a
   * replica that is gone, a proxy already closed) counts as undone, not as an error.
   */
  undo(target: FaultTarget | null, record: FaultRecord<P, S>): Promise<void>;
  /**
   * After the panel restarted, or the replica restarted under a new runtime reference:
   * bring the recorded fault back in line with the world (adopt what still runs, re-apply
   * what was lost). Returns the new state, or null when the fault can no longer be held
   * (the store then undoes what is left and ends the record).
   */
  resume(target: FaultTarget, record: FaultRecord<P, S>): Promise<S | null>;
}
