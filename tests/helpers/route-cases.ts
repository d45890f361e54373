/**
 * Seeded route sets and requests for the engine contract suite
 * (tests/integration/engine-contract.test.ts), and what lib/core says each request
 * should get. Pure: the same seed always gives the same cases.
 */
import { barePrefix, normalizeHost, pathOf, stripPathPrefix } from "@/lib/core/balancing";
import { describeRouteOf, matchRoute, routeTakes } from "@/lib/core/route-match";
import { routeKeys } from "@/lib/core/routes";

/** mulberry32: a small seeded PRNG, so generated and random tests are deterministic. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One route of a service (its `index` in the service's list), as rules.routes holds it plus the service's name. */
export type ContractRoute = { service: string; index: number; hosts: string[]; path: string; match: "prefix" | "exact"; priority: number; stripPrefix: boolean };

/** A request: the Host header as sent (null: none at all, sent as HTTP/1.0) and the request target. */
export type ContractRequest = { host: string | null; target: string };

/** What lib/core says: the service and the target its replica receives, or null for "no route" (503). */
export type Expected = { service: string; target: string } | null;

export type ContractCase = {
  set: number;
  index: number;
  routes: ContractRoute[];
  request: ContractRequest;
  expected: Expected;
  /** how many routes match the request: 2 or more means the route order decides */
  matching: number;
};

/** Service names the route sets draw from; the suite runs one replica for each. */
export const CONTRACT_SERVICES = ["svc-a", "svc-b", "svc-c", "svc-d", "svc-e", "svc-f"] as const;
/** Route hosts: exact names and wildcards, one of them (*.b.local) inside another (*.local). */
const HOSTS = ["a.local", "b.local", "x.local", "*.local", "*.b.local"];
/** Request hosts: the exact ones, names only the wildcards take (at one and two levels), the wildcards' bare suffix, an unknown name. */
const REQUEST_HOSTS = ["a.local", "b.local", "x.local", "y.b.local", "deep.y.b.local", "z.local", "local", "unknown.test"];
const PATHS_FOR_ROUTES = ["/", "/api", "/api/", "/api/v1", "/api/v1/", "/api/v1/users", "/static", "/static/", "/ws", "/api/student"];
/** Paths under, at and beside the route paths. */
const PATHS = ["/", "/?q=2", "/api", "/api/", "/apix", "/api?q=1", "/api/v1", "/api/v1/", "/api/v10", "/api/v1/users", "/api/v1/users/7", "/api/v1/users/7?q=1", "/api/v1/usersx", "/static/app.js", "/staticx", "/other/page", "/ws", "/ws/x", "/api/student", "/api/student/1", "/api/students"];
/** Explicit priorities: none (the rule's length) most of the time, low ones (after every default) and middling ones (among them). */
const PRIORITIES = [0, 0, 0, 0, 0, 0, 1, 2, 3, 50, 70];

type Random = () => number;
const pick = <T>(rand: Random, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const chance = (rand: Random, p: number): boolean => rand() < p;

function shuffle<T>(rand: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * 2 to 6 services with 1 to 3 routes each: 0 to 2 hosts (exact and wildcard), an exact
 * path or a prefix. No two routes catch the same host and path (the rules refuse that:
 * lib/core/routes routeKeys); shadowed routes are allowed, every engine must agree on them too.
 */
export function generateRouteSet(rand: Random): ContractRoute[] {
  const count = 2 + Math.floor(rand() * 5);
  const services = shuffle(rand, CONTRACT_SERVICES).slice(0, count);
  const routes: ContractRoute[] = [];
  const keys = new Set<string>();
  for (const service of services) {
    const wanted = 1 + Math.floor(rand() * 3);
    let index = 0;
    for (let attempt = 0; attempt < 30 && index < wanted; attempt++) {
      const hostCount = chance(rand, 0.4) ? 0 : 1 + Math.floor(rand() * 2);
      const route: ContractRoute = {
        service,
        index,
        hosts: [...new Set(Array.from({ length: hostCount }, () => pick(rand, HOSTS)))],
        path: pick(rand, PATHS_FOR_ROUTES),
        match: chance(rand, 0.25) ? "exact" : "prefix",
        priority: pick(rand, PRIORITIES),
        stripPrefix: chance(rand, 0.4),
      };
      const own = routeKeys(route);
      if (own.some((k) => keys.has(k))) continue;
      own.forEach((k) => keys.add(k));
      routes.push(route);
      index += 1;
    }
  }
  return routes;
}

/** A Host header: one of the route hosts (as written, upper case with a port, or with a trailing dot), an unknown host, or none. */
function generateHost(rand: Random): string | null {
  const r = rand();
  if (r < 0.12) return null;
  if (r < 0.17) return "unknown.test";
  const host = pick(rand, REQUEST_HOSTS);
  if (r < 0.32) return `${host.toUpperCase()}:8080`;
  if (r < 0.37) return `${host}.`;
  return host;
}

/** A request target: from the fixed list, or one of the set's prefixes with something after it. */
function generateTarget(rand: Random, routes: readonly ContractRoute[]): string {
  if (chance(rand, 0.5)) return pick(rand, PATHS);
  const prefix = barePrefix(pick(rand, routes).path);
  const target = `${prefix === "/" ? "" : prefix}${pick(rand, ["", "/", "x", "/7", "/7?q=1", "?q=1"])}`;
  return target.startsWith("/") ? target : `/${target}`;
}

/** What lib/core's matcher names for a request, with the target the replica should see after stripping. */
export function expectedFor(routes: readonly ContractRoute[], request: ContractRequest): Expected {
  const route = matchRoute(routes, normalizeHost(request.host ?? undefined), pathOf(request.target));
  if (!route) return null;
  return { service: route.service, target: route.stripPrefix ? stripPathPrefix(request.target, route.path) : request.target };
}

function matchingRoutes(routes: readonly ContractRoute[], request: ContractRequest): number {
  const host = normalizeHost(request.host ?? undefined);
  const path = pathOf(request.target);
  return routes.filter((r) => routeTakes(r, host, path)).length;
}

/** `sets` route sets of `requestsPerSet` requests each, from one seed. */
export function generateContractCases(seed: number, sets: number, requestsPerSet: number): ContractCase[][] {
  const rand = seededRandom(seed);
  const out: ContractCase[][] = [];
  for (let set = 0; set < sets; set++) {
    const routes = generateRouteSet(rand);
    const cases: ContractCase[] = [];
    for (let index = 0; index < requestsPerSet; index++) {
      const request = { host: generateHost(rand), target: generateTarget(rand, routes) };
      cases.push({ set, index, routes, request, expected: expectedFor(routes, request), matching: matchingRoutes(routes, request) });
    }
    out.push(cases);
  }
  return out;
}

/** One line per route, for failure messages. */
export function describeRouteSet(routes: readonly ContractRoute[]): string {
  return routes
    .map((r) => `  ${r.service}#${r.index}: ${describeRouteOf(r)} (${r.match}) priority ${r.priority}${r.stripPrefix ? " strip" : ""}`)
    .join("\n");
}
