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
  /** replicas to take out of rotation and stop (scale-in victims), in order */
  drain: string[];
  /** replicas that are gone or failed: clean them out of the engine, runtime and database */
  cleanup: string[];
};

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

export function plan(desired: number, actual: ActualReplica[]): Plan {
  const cleanup = actual.filter((r) => !r.alive && r.state !== "stopping" && r.state !== "draining").map((r) => r.id);
  const failedAlive = actual.filter((r) => r.alive && r.state === "failed").map((r) => r.id);
  const counted = actual.filter(isCounted);
  const want = Math.max(0, desired);
  if (counted.length < want) {
    return { create: want - counted.length, drain: [], cleanup: [...cleanup, ...failedAlive] };
  }
  return { create: 0, drain: chooseVictims(counted, counted.length - want), cleanup: [...cleanup, ...failedAlive] };
}
