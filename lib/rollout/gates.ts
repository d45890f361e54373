import type { ServiceTick } from "@/lib/core/metrics";
import { addBuckets, percentileFromBuckets } from "@/lib/core/rates";
import type { GatePolicy, GateVerdict, VersionFigures } from "@/lib/core/rollout";

/**
 * The health gates between a rollout's steps (issue 16, part 2). Pure: the figures come
 * from the collector's 1 s ticks of the step (the balancer's own counters per replica),
 * the new version against the old one measured over the same seconds.
 *
 * Order of the gates, the first that speaks decides:
 *  1. health: every new replica in rotation (health checks passing) at one of the last
 *     HEALTH_TICKS ticks, else fail; none in the ticks yet: wait;
 *  2. min-requests: fewer answered requests than the policy's minimum -> wait (never a
 *     pass on no data), or a pass on health alone when the policy allows a quiet service;
 *  3. error-rate (5xx, connection errors and attempts the balancer retried elsewhere): new rate above old rate + maxErrorRateDelta points -> fail;
 *  4. p95: new p95 above old p95 × maxP95Ratio + p95SlackMs -> fail (only when both have one);
 *  5. otherwise pass.
 * A step can fail as soon as it has its minimum of requests; it passes only after its hold.
 */

export type Side = "new" | "old";

/** the ticks (seconds) a new replica must be out of rotation before the health gate fails */
export const HEALTH_TICKS = 3;

const emptyFigures = (): VersionFigures => ({ requests: 0, errors: 0, p95Ms: null, healthy: 0, replicas: 0 });

/**
 * Sum each version's requests and errors (5xx and connection errors) over the ticks,
 * merge their latency buckets for a p95, and count the replicas of each version in
 * rotation at the last tick. `sideOf` says which version a replica runs (null: neither,
 * e.g. a replica already gone).
 */
export function versionFigures(ticks: readonly ServiceTick[], sideOf: (replicaId: string) => Side | null): Record<Side, VersionFigures> {
  const out: Record<Side, VersionFigures> = { new: emptyFigures(), old: emptyFigures() };
  const buckets: Record<Side, Record<string, number>> = { new: {}, old: {} };
  const hasBuckets: Record<Side, boolean> = { new: false, old: false };
  const p95s: Record<Side, number[]> = { new: [], old: [] };
  // an attempt the balancer retried elsewhere (HAProxy's retry-on 503, a reset) never reaches the
  // client and is not in the 5xx count, but it failed at this replica: the server's retries count it
  const lastRetries = new Map<string, number>();
  for (const t of ticks) {
    for (const r of t.replicas) {
      const side = sideOf(r.replicaId);
      if (!side) continue;
      out[side].requests += r.rps;
      out[side].errors += r.errors["5xx"] + r.errors.conn;
      const retries = r.server?.retries ?? r.serverRetries; // an older tick of the collector's history keeps only that figure
      if (retries !== undefined) {
        const before = lastRetries.get(r.replicaId);
        if (before !== undefined) out[side].errors += retries >= before ? retries - before : retries;
        lastRetries.set(r.replicaId, retries);
      }
      if (r.latencyBuckets) {
        hasBuckets[side] = true;
        addBuckets(buckets[side], r.latencyBuckets);
      } else if (r.latency.p95 !== null && r.rps > 0) p95s[side].push(r.latency.p95);
    }
  }
  // in rotation: at any of the last HEALTH_TICKS ticks (a replica out for that long fails the health gate, not a blip)
  const recent = ticks.slice(-HEALTH_TICKS);
  const last = ticks[ticks.length - 1];
  for (const side of ["new", "old"] as const) {
    out[side].p95Ms = hasBuckets[side] ? percentileFromBuckets(buckets[side], 0.95) : p95s[side].length ? Math.max(...p95s[side]) : null;
    const mine = last?.replicas.filter((r) => sideOf(r.replicaId) === side) ?? [];
    out[side].replicas = mine.length;
    out[side].healthy = mine.filter((r) => recent.some((t) => t.replicas.some((x) => x.replicaId === r.replicaId && x.inRotation))).length;
  }
  return out;
}

const pct = (errors: number, requests: number) => (requests > 0 ? (100 * errors) / requests : 0);
const f1 = (x: number) => x.toFixed(1);

export type GateInput = {
  figures: Record<Side, VersionFigures>;
  policy: GatePolicy;
  /** has the step been held for its time? (a pass waits for it; a failure does not) */
  holdDone: boolean;
};

export function evaluateGates({ figures, policy, holdDone }: GateInput): GateVerdict {
  const n = figures.new;
  const o = figures.old;
  const base = { newFigures: n, oldFigures: o };
  if (n.replicas === 0) return { ...base, verdict: "wait", gate: "health", message: "no figures of the new version yet" };
  if (n.healthy < n.replicas) {
    return { ...base, verdict: "fail", gate: "health", message: `health checks: ${n.healthy} of ${n.replicas} new replica(s) in rotation` };
  }
  if (n.requests < policy.minRequests) {
    if (policy.passOnHealthWhenQuiet && holdDone) {
      return { ...base, verdict: "pass", gate: null, message: `quiet: ${n.requests} of ${policy.minRequests} requests; passed on health checks alone (${n.healthy}/${n.replicas} in rotation)` };
    }
    return { ...base, verdict: "wait", gate: "min-requests", message: `waiting for traffic: ${n.requests} of ${policy.minRequests} requests to the new version` };
  }
  const newRate = pct(n.errors, n.requests);
  const oldRate = pct(o.errors, o.requests);
  if (newRate > oldRate + policy.maxErrorRateDelta) {
    return {
      ...base,
      verdict: "fail",
      gate: "error-rate",
      message: `error rate ${f1(newRate)} % (new, ${n.errors}/${n.requests}) vs ${f1(oldRate)} % (old, ${o.errors}/${o.requests}): more than +${policy.maxErrorRateDelta} points`,
    };
  }
  if (n.p95Ms !== null && o.p95Ms !== null) {
    const limit = o.p95Ms * policy.maxP95Ratio + policy.p95SlackMs;
    if (n.p95Ms > limit) {
      return { ...base, verdict: "fail", gate: "p95", message: `p95 ${Math.round(n.p95Ms)} ms (new) vs ${Math.round(o.p95Ms)} ms (old): above ${Math.round(limit)} ms (× ${policy.maxP95Ratio} + ${policy.p95SlackMs} ms)` };
    }
  }
  const p95Text = n.p95Ms !== null ? `, p95 ${Math.round(n.p95Ms)} ms vs ${o.p95Ms !== null ? Math.round(o.p95Ms) : "–"} ms` : "";
  const summary = `error rate ${f1(newRate)} % vs ${f1(oldRate)} % over ${n.requests} requests${p95Text}, ${n.healthy}/${n.replicas} healthy`;
  if (!holdDone) return { ...base, verdict: "wait", gate: null, message: `holding: ${summary}` };
  return { ...base, verdict: "pass", gate: null, message: `passed: ${summary}` };
}
