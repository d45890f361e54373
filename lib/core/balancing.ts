/**
 * Balancing algorithms and route matching, pure: no I/O, no clock, no global
 * randomness. Callers pass in whatever changes (weights, in-flight counts,
 * previous state, a random source) and get a decision back. The builtin engine
 * runs these on every request; the UI and tests can run them to explain or
 * predict what a balancer does.
 */

/** A server that may take the next request, as the algorithms see it. */
export type Candidate = {
  /** stable key: the engine server name */
  name: string;
  /** effective weight now (after slow start); candidates with weight <= 0 are never picked */
  weight: number;
  /** requests in flight on this server */
  active: number;
};

// ---------------------------------------------------------------------------
// Smooth weighted round robin (nginx's algorithm)
// ---------------------------------------------------------------------------

/** name -> current weight. Names missing from the state start at 0. */
export type WrrState = Readonly<Record<string, number>>;

export type WrrPick = { pick: string | null; state: WrrState };

/**
 * One step of smooth weighted round robin: every candidate's current weight
 * grows by its weight, the largest wins and gives back the total. Over any
 * window of `sum(weights)` picks each server gets exactly its weight, spread
 * out rather than in bursts (weights 5,1,1 give a a b a c a a, not a a a a a b c).
 * State of servers that are not candidates now is dropped.
 */
export function smoothWrrPick(state: WrrState, candidates: readonly Candidate[]): WrrPick {
  const next: Record<string, number> = {};
  let total = 0;
  let best: string | null = null;
  let bestCurrent = -Infinity;
  for (const c of candidates) {
    if (c.weight <= 0) continue;
    const current = (state[c.name] ?? 0) + c.weight;
    next[c.name] = current;
    total += c.weight;
    if (current > bestCurrent) {
      bestCurrent = current;
      best = c.name;
    }
  }
  if (best !== null) next[best] -= total;
  return { pick: best, state: next };
}

// ---------------------------------------------------------------------------
// Least connections (weighted)
// ---------------------------------------------------------------------------

/**
 * The candidate with the fewest requests in flight per unit of weight
 * (`active / weight`, compared by cross-multiplication so there is no
 * rounding). Ties go to the tied candidate at position `tieBreak % ties`, so a
 * caller that counts up spreads ties round robin instead of piling on the first.
 */
export function leastConnPick(candidates: readonly Candidate[], tieBreak = 0): string | null {
  let tied: Candidate[] = [];
  for (const c of candidates) {
    if (c.weight <= 0) continue;
    if (tied.length === 0) {
      tied = [c];
      continue;
    }
    const b = tied[0];
    const cmp = c.active * b.weight - b.active * c.weight;
    if (cmp < 0) tied = [c];
    else if (cmp === 0) tied.push(c);
  }
  if (tied.length === 0) return null;
  const i = ((Math.trunc(tieBreak) % tied.length) + tied.length) % tied.length;
  return tied[i].name;
}

// ---------------------------------------------------------------------------
// Power of two random choices
// ---------------------------------------------------------------------------

/** A number in [0, 1), like Math.random. Tests pass a seeded one. */
export type RandomSource = () => number;

function weightedDraw(candidates: readonly Candidate[], total: number, rand: RandomSource): number {
  let x = rand() * total;
  for (let i = 0; i < candidates.length; i++) {
    const w = candidates[i].weight;
    if (w <= 0) continue;
    if (x < w) return i;
    x -= w;
  }
  // rand() returned (almost) 1 and rounding left us past the end: the last usable one.
  for (let i = candidates.length - 1; i >= 0; i--) if (candidates[i].weight > 0) return i;
  return -1;
}

/**
 * Draw two different candidates at random (in proportion to weight) and keep
 * the one with fewer requests in flight per unit of weight; the first draw wins
 * ties. Needs no shared state, and avoids both the herd effect of pure least
 * connections and the bad luck of pure random.
 */
export function randomTwoPick(candidates: readonly Candidate[], rand: RandomSource): string | null {
  const usable = candidates.filter((c) => c.weight > 0);
  if (usable.length === 0) return null;
  if (usable.length === 1) return usable[0].name;
  const total = usable.reduce((s, c) => s + c.weight, 0);
  const i = weightedDraw(usable, total, rand);
  const a = usable[i];
  const rest = usable.filter((_, k) => k !== i);
  const b = rest[weightedDraw(rest, total - a.weight, rand)];
  return b.active * a.weight < a.active * b.weight ? b.name : a.name;
}

// ---------------------------------------------------------------------------
// Consistent hashing (weighted rendezvous hashing)
// ---------------------------------------------------------------------------

/** 32-bit FNV-1a over the UTF-16 code units of `s`, with a murmur3 finaliser for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Weighted rendezvous (highest random weight) hashing: every (key, server)
 * pair gets a pseudo-random score, scaled by weight so shares follow weights;
 * the highest score wins. Adding or removing a server moves only the keys
 * that go to or come from that server; every other key stays where it was.
 * In-flight counts are ignored: the same key always lands on the same server
 * while the candidate set is unchanged.
 */
export function consistentHashPick(key: string, candidates: readonly Candidate[]): string | null {
  let best: string | null = null;
  let bestScore = -Infinity;
  for (const c of candidates) {
    if (c.weight <= 0) continue;
    // u in (0, 1); -w / ln(u) is the weighted rendezvous score.
    const u = (hash32(`${key}\u0000${c.name}`) + 0.5) / 4294967296;
    const score = -c.weight / Math.log(u);
    if (score > bestScore || (score === bestScore && best !== null && c.name < best)) {
      bestScore = score;
      best = c.name;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// Slow start
// ---------------------------------------------------------------------------

/**
 * The weight a server gets `sinceUpMs` after it came (back) into rotation:
 * ramps linearly from 1 to `weight` over `slowStartMs`, then `weight`. A weight
 * of 0 stays 0. With no slow start (0) or an unknown start time, the full weight.
 */
export function slowStartWeight(weight: number, sinceUpMs: number | null, slowStartMs: number): number {
  if (weight <= 0) return 0;
  if (slowStartMs <= 0 || sinceUpMs === null || sinceUpMs >= slowStartMs) return weight;
  const ramped = Math.ceil((weight * Math.max(0, sinceUpMs)) / slowStartMs);
  return Math.min(weight, Math.max(1, ramped));
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

/** Host header value -> lower-case host name without port or trailing dot. */
export function normalizeHost(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  let h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h || null;
}

/** A route prefix without its trailing slash ("/api/" -> "/api"; "/" stays "/"): the form every engine matches on. */
export function barePrefix(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
}

/** Does `path` (no query) fall under `prefix` on a segment boundary? "/api" matches "/api", "/api/" and "/api/x", not "/apix". */
export function pathHasPrefix(path: string, prefix: string): boolean {
  const p = barePrefix(prefix);
  if (p === "/") return path.startsWith("/");
  return path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47 /* '/' */);
}

// The route order and matching: lib/core/route-match.ts.

/**
 * Remove a matched route prefix from a request target (path plus optional
 * query): ("/api/users?x=1", "/api") -> "/users?x=1"; ("/api", "/api") -> "/".
 * A target that does not carry the prefix is returned unchanged.
 */
export function stripPathPrefix(target: string, prefix: string): string {
  const p = barePrefix(prefix);
  if (p === "/") return target;
  const q = target.search(/[?#]/);
  const path = q >= 0 ? target.slice(0, q) : target;
  const rest = q >= 0 ? target.slice(q) : "";
  if (!pathHasPrefix(path, p)) return target;
  const stripped = path.slice(p.length);
  return (stripped === "" ? "/" : stripped) + rest;
}

/** Request target -> its path (before '?' or '#'). */
export function pathOf(target: string): string {
  const q = target.search(/[?#]/);
  return q >= 0 ? target.slice(0, q) : target;
}
