/**
 * Which server takes a request: the rule's algorithm over the eligible servers (slow
 * start weights), a sticky cookie's server, where a failed attempt goes next, and the
 * passive failure count that takes a server out.
 */
import { type Candidate, consistentHashPick, leastConnPick, randomTwoPick, smoothWrrPick } from "../../core/balancing";
import { type Failure, readCookie } from "./http-rules";
import { isUp, markPassiveDown, recordFailure } from "./health";
import type { ServerRuntime, ServiceRuntime } from "./server-runtime";

export type Log = (line: string) => void;

/** The server the rule's algorithm picks among the eligible ones not in `exclude` (slow start weighs a new one less); null when none may take it. */
export function pick(svc: ServiceRuntime, clientIp: string, path: string, exclude: ReadonlySet<ServerRuntime>): ServerRuntime | null {
  const now = Date.now();
  const candidates: Candidate[] = [];
  for (const s of svc.servers) {
    if (exclude.has(s) || !s.eligible()) continue;
    candidates.push({ name: s.spec.name, weight: s.effectiveWeight(now), active: s.active + s.othersActive });
  }
  if (candidates.length === 0) return null;
  const rules = svc.spec.rules;
  let name: string | null;
  if (rules.sticky.mode === "source" || rules.algorithm === "source_hash") name = consistentHashPick(clientIp, candidates);
  else if (rules.algorithm === "uri_hash") name = consistentHashPick(path, candidates);
  else if (rules.algorithm === "least_conn") name = leastConnPick(candidates, svc.tie++);
  else if (rules.algorithm === "random_two") name = randomTwoPick(candidates, Math.random);
  else {
    const r = smoothWrrPick(svc.wrr, candidates);
    // a retry (exclusions) must not forget the state of the servers it skipped
    if (exclude.size === 0) svc.wrr = r.state;
    name = r.pick;
  }
  return name === null ? null : (svc.byName.get(name) ?? null);
}

/** The server a sticky cookie points at, if it may take the request. */
export function stickyTarget(svc: ServiceRuntime, cookieHeader: string | undefined): ServerRuntime | null {
  const sticky = svc.spec.rules.sticky;
  if (sticky.mode !== "cookie") return null;
  const id = readCookie(cookieHeader, sticky.cookieName);
  if (id === null) return null;
  const s = svc.byReplica.get(id);
  return s && s.eligible() ? s : null;
}

/** Where a failed attempt goes next: another server of the live service (`live`, after any reload) with redispatch, the same one without. */
export function retryTarget(live: ServiceRuntime, failed: ServerRuntime, tried: Set<ServerRuntime>, clientIp: string, path: string): ServerRuntime | null {
  const next = live.spec.rules.retries.redispatch ? pick(live, clientIp, path, tried) : failed.removed ? null : failed;
  if (next) failed.counters.retries += 1;
  if (next && next !== failed) failed.counters.redispatches += 1;
  return next;
}

/**
 * A failed attempt counts towards the passive limit; past it the server is taken out until its next passing check.
 * `onChange` hears of the server taken out (the primary of several workers tells them).
 */
export function passiveFailure(server: ServerRuntime, why: Failure, detail: string, log: Log, onChange?: (rt: ServerRuntime) => void): void {
  const { maxFails, failTimeoutMs } = server.rules.passive;
  const now = Date.now();
  const r = recordFailure(server.fails, now, failTimeoutMs, maxFails);
  server.fails = r.times;
  if (!r.tripped || server.health.passiveDown !== null) return;
  const wasUp = isUp(server.health);
  server.health = markPassiveDown(server.health, `passive: ${maxFails} failures in ${failTimeoutMs} ms (${why}: ${detail})`, now);
  server.refresh(now);
  onChange?.(server);
  if (wasUp) log(`${server.service.spec.name}/${server.spec.name} DOWN ${server.health.passiveDown}`);
}
