import type { AdminState } from "@/lib/core/rules";

/**
 * The pure heart of the controller: given what should run and what runs,
 * say what to create, what to drain away, and what to clean up.
 * Level-triggered: calling it again with the same inputs gives the same answer.
 */

export type ReplicaPhase = "starting" | "ready" | "draining" | "stopping" | "failed";

export type ActualReplica = {
  id: string;
  state: ReplicaPhase;
  /** is the process/container still running according to the runtime? */
  alive: boolean;
  /** creation time, ms since epoch (newest is removed first) */
  createdAt: number;
};

export type Plan = {
  /** how many new replicas to start */
  create: number;
  /**
   * replicas to take out of rotation and stop, in order: first those already leaving
   * (draining or stopping) whose drain did not finish (it failed, or the panel stopped
   * meanwhile), so it is retried; then the scale-in victims
   */
  drain: string[];
  /** replicas that are gone or failed: clean them out of the engine, runtime and database */
  cleanup: string[];
};

/** A replica on its way out: it counts for nothing, and its drain must end. */
export function isLeaving(r: Pick<ActualReplica, "state">): boolean {
  return r.state === "draining" || r.state === "stopping";
}

/**
 * The admin state an engine config gives a replica: its own, except that a replica on its
 * way out is never ready. An engine restarted from the database while a drain was
 * unfinished (it died mid-drain) must not put the replica back in rotation.
 */
export function engineAdminState(state: string, adminState: string): AdminState {
  const own: AdminState = adminState === "drain" || adminState === "maint" ? adminState : "ready";
  return own === "ready" && isLeaving({ state: state as ReplicaPhase }) ? "drain" : own;
}

/** Replicas that count towards the desired number. */
export function isCounted(r: ActualReplica): boolean {
  return r.alive && (r.state === "starting" || r.state === "ready");
}

/**
 * Choose scale-in victims: failed first, then replicas still starting (newest
 * first), then the newest ready ones. Older replicas have proven themselves.
 */
export function chooseVictims(replicas: ActualReplica[], count: number): string[] {
  if (count <= 0) return [];
  const rank = (r: ActualReplica) => (r.state === "failed" || !r.alive ? 0 : r.state === "starting" ? 1 : 2);
  return [...replicas]
    .sort((a, b) => rank(a) - rank(b) || b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
    .slice(0, count)
    .map((r) => r.id);
}

/**
 * `alive` is what the caller knows: a replica with a task in flight (starting, draining) is
 * alive, so a leaving replica that is not alive has no drain running and no process left.
 */
export function plan(desired: number, actual: ActualReplica[]): Plan {
  const cleanup = actual.filter((r) => !r.alive).map((r) => r.id);
  const failedAlive = actual.filter((r) => r.alive && r.state === "failed").map((r) => r.id);
  const unfinished = actual.filter((r) => r.alive && isLeaving(r)).map((r) => r.id);
  const counted = actual.filter(isCounted);
  const want = Math.max(0, desired);
  if (counted.length < want) {
    return { create: want - counted.length, drain: unfinished, cleanup: [...cleanup, ...failedAlive] };
  }
  return { create: 0, drain: [...unfinished, ...chooseVictims(counted, counted.length - want)], cleanup: [...cleanup, ...failedAlive] };
}
