import { describe, expect, it } from "vitest";
import {
  type Candidate,
  type WrrState,
  consistentHashPick,
  hash32,
  leastConnPick,
  normalizeHost,
  pathHasPrefix,
  randomTwoPick,
  slowStartWeight,
  smoothWrrPick,
  stripPathPrefix,
} from "@/lib/core/balancing";
import { compareRoutes, matchRoute, orderRoutes, routePriority } from "@/lib/core/route-match";
import { rulesSchema } from "@/lib/core/rules";
import { orderByRoute, routeKey, shadowingService } from "@/lib/core/routes";
import { seededRandom } from "@/tests/helpers/route-cases";

const cand = (name: string, weight = 1, active = 0): Candidate => ({ name, weight, active });

function runWrr(candidates: Candidate[], n: number, start: WrrState = {}): { picks: string[]; state: WrrState } {
  let state = start;
  const picks: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = smoothWrrPick(state, candidates);
    state = r.state;
    picks.push(r.pick!);
  }
  return { picks, state };
}

describe("smoothWrrPick", () => {
  it("produces nginx's smooth sequence for weights 5,1,1", () => {
    const { picks } = runWrr([cand("a", 5), cand("b", 1), cand("c", 1)], 7);
    expect(picks.join(" ")).toBe("a a b a c a a");
  });

  it("is plain round robin for equal weights", () => {
    const { picks } = runWrr([cand("a"), cand("b"), cand("c")], 6);
    expect(picks.join(" ")).toBe("a b c a b c");
  });

  it("gives each server exactly its weight over a window of sum(weights)", () => {
    const cs = [cand("a", 3), cand("b", 2), cand("c", 7), cand("d", 1)];
    const { picks } = runWrr(cs, 13 * 10);
    const counts = Object.fromEntries(cs.map((c) => [c.name, picks.filter((p) => p === c.name).length]));
    expect(counts).toEqual({ a: 30, b: 20, c: 70, d: 10 });
  });

  it("never picks weight 0 and returns null when nothing is usable", () => {
    const { picks } = runWrr([cand("a", 0), cand("b", 2)], 4);
    expect(new Set(picks)).toEqual(new Set(["b"]));
    expect(smoothWrrPick({}, [cand("a", 0)]).pick).toBeNull();
    expect(smoothWrrPick({}, []).pick).toBeNull();
  });

  it("drops state of servers that left and keeps going when one is added", () => {
    const first = runWrr([cand("a"), cand("b")], 3);
    const r = smoothWrrPick(first.state, [cand("b"), cand("c")]);
    expect(Object.keys(r.state).sort()).toEqual(["b", "c"]);
    const { picks } = runWrr([cand("b"), cand("c")], 4, r.state);
    expect(picks.filter((p) => p === "b").length).toBe(2);
  });

  it("does not mutate the state it is given", () => {
    const state = Object.freeze({ a: 1, b: -1 });
    expect(() => smoothWrrPick(state, [cand("a"), cand("b")])).not.toThrow();
    expect(state).toEqual({ a: 1, b: -1 });
  });
});

describe("leastConnPick", () => {
  it("picks the fewest in flight", () => {
    expect(leastConnPick([cand("a", 1, 3), cand("b", 1, 1), cand("c", 1, 2)])).toBe("b");
  });

  it("divides by weight", () => {
    // a: 4/4 = 1, b: 2/1 = 2
    expect(leastConnPick([cand("a", 4, 4), cand("b", 1, 2)])).toBe("a");
    // a: 5/4 > b: 1/1
    expect(leastConnPick([cand("a", 4, 5), cand("b", 1, 1)])).toBe("b");
  });

  it("spreads ties by the tie breaker", () => {
    const cs = [cand("a", 1, 0), cand("b", 1, 0), cand("c", 1, 5)];
    expect([0, 1, 2, 3].map((t) => leastConnPick(cs, t))).toEqual(["a", "b", "a", "b"]);
    expect(leastConnPick(cs, -1)).toBe("b");
  });

  it("skips weight 0 and returns null when nothing is usable", () => {
    expect(leastConnPick([cand("a", 0, 0), cand("b", 1, 9)])).toBe("b");
    expect(leastConnPick([cand("a", 0)])).toBeNull();
  });
});

describe("randomTwoPick", () => {
  it("keeps the less loaded of the two draws", () => {
    // with two candidates both are always drawn: the idle one wins every time
    const rand = seededRandom(1);
    for (let i = 0; i < 50; i++) expect(randomTwoPick([cand("a", 1, 4), cand("b", 1, 0)], rand)).toBe("b");
  });

  it("never picks the busiest of three when the others are idle", () => {
    const rand = seededRandom(2);
    const picks = new Set<string>();
    for (let i = 0; i < 300; i++) picks.add(randomTwoPick([cand("a", 1, 0), cand("b", 1, 0), cand("c", 1, 9)], rand)!);
    expect(picks).toEqual(new Set(["a", "b"]));
  });

  it("follows weights when idle", () => {
    const rand = seededRandom(3);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    // all idle: the first draw wins ties, so shares follow the weighted first draw
    const cs = [cand("a", 1), cand("b", 1), cand("c", 1), cand("d", 5)];
    for (let i = 0; i < 8000; i++) counts[randomTwoPick(cs, rand)!]++;
    expect(counts.d / 8000).toBeGreaterThan(0.55);
    expect(counts.d / 8000).toBeLessThan(0.7);
    for (const k of ["a", "b", "c"]) expect(counts[k] / 8000).toBeGreaterThan(0.09);
  });

  it("handles one, zero and weightless candidates", () => {
    const rand = seededRandom(4);
    expect(randomTwoPick([cand("a")], rand)).toBe("a");
    expect(randomTwoPick([], rand)).toBeNull();
    expect(randomTwoPick([cand("a", 0), cand("b", 0)], rand)).toBeNull();
    expect(randomTwoPick([cand("a", 0), cand("b", 1)], () => 0.999999999)).toBe("b");
  });
});

describe("consistentHashPick", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

  it("is stable for a key and ignores load", () => {
    const cs = [cand("a"), cand("b"), cand("c")];
    const first = consistentHashPick("127.0.0.5", cs);
    expect(consistentHashPick("127.0.0.5", [cand("a", 1, 9), cand("b", 1, 3), cand("c", 1, 0)])).toBe(first);
    // order of candidates does not matter
    expect(consistentHashPick("127.0.0.5", [...cs].reverse())).toBe(first);
  });

  it("spreads keys evenly (within 10%) for equal weights", () => {
    const cs = [cand("a"), cand("b"), cand("c")];
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (const k of keys) counts[consistentHashPick(k, cs)!]++;
    for (const n of Object.values(counts)) expect(Math.abs(n - 1000)).toBeLessThan(100);
  });

  it("follows weights", () => {
    const cs = [cand("a", 1), cand("b", 3)];
    let b = 0;
    for (const k of keys) if (consistentHashPick(k, cs) === "b") b++;
    expect(b / keys.length).toBeGreaterThan(0.7);
    expect(b / keys.length).toBeLessThan(0.8);
  });

  it("moves only the keys of a removed server, and only keys to an added one", () => {
    const three = [cand("a"), cand("b"), cand("c")];
    const two = [cand("a"), cand("b")];
    const four = [...three, cand("d")];
    for (const k of keys) {
      const before = consistentHashPick(k, three);
      const afterRemove = consistentHashPick(k, two);
      if (before !== "c") expect(afterRemove).toBe(before);
      const afterAdd = consistentHashPick(k, four);
      if (afterAdd !== "d") expect(afterAdd).toBe(before);
    }
  });

  it("returns null with no usable candidate", () => {
    expect(consistentHashPick("x", [])).toBeNull();
    expect(consistentHashPick("x", [cand("a", 0)])).toBeNull();
  });

  it("hash32 is deterministic and 32-bit unsigned", () => {
    expect(hash32("abc")).toBe(hash32("abc"));
    expect(hash32("abc")).not.toBe(hash32("abd"));
    for (const k of keys.slice(0, 50)) {
      const h = hash32(k);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});

describe("slowStartWeight", () => {
  it("ramps from 1 to the weight over the window", () => {
    expect(slowStartWeight(10, 0, 1000)).toBe(1);
    expect(slowStartWeight(10, 250, 1000)).toBe(3);
    expect(slowStartWeight(10, 500, 1000)).toBe(5);
    expect(slowStartWeight(10, 999, 1000)).toBe(10);
    expect(slowStartWeight(10, 1000, 1000)).toBe(10);
    expect(slowStartWeight(10, 5000, 1000)).toBe(10);
  });

  it("is the full weight without slow start, and 0 stays 0", () => {
    expect(slowStartWeight(7, 0, 0)).toBe(7);
    expect(slowStartWeight(7, null, 1000)).toBe(7);
    expect(slowStartWeight(0, 10, 1000)).toBe(0);
    expect(slowStartWeight(3, -5, 1000)).toBe(1);
  });
});

/** A one-host (or any-host) prefix route, as the matcher sees it. */
const rt = (service: string, host: string | null, path: string, priority = 0) => ({ service, hosts: host === null ? [] : [host], path, match: "prefix" as const, priority });

describe("routes", () => {
  const routes = [
    rt("web", null, "/"),
    rt("api", null, "/api"),
    rt("api-v2", null, "/api/v2/"),
    rt("ttt", "tictactoe.local", "/"),
    rt("ttt-admin", "tictactoe.local", "/admin"),
    rt("urgent", null, "/urgent", 1000),
  ];
  const svc = (host: string | null, path: string) => matchRoute(routes, host, path)?.service ?? null;

  it("matches on whole path segments, longest prefix first", () => {
    expect(svc(null, "/")).toBe("web");
    expect(svc(null, "/apix")).toBe("web");
    expect(svc(null, "/api")).toBe("api");
    expect(svc(null, "/api/users")).toBe("api");
    expect(svc(null, "/api/v2")).toBe("api-v2");
    expect(svc(null, "/api/v2/x")).toBe("api-v2");
    expect(svc(null, "/api/v20")).toBe("api");
  });

  it("prefers a route naming the host over any-host routes, even with a shorter prefix", () => {
    expect(svc("tictactoe.local", "/api/x")).toBe("ttt");
    expect(svc("tictactoe.local", "/admin/users")).toBe("ttt-admin");
    expect(svc("other.local", "/admin")).toBe("web");
  });

  it("lets a high explicit priority win over everything", () => {
    expect(svc("tictactoe.local", "/urgent/1")).toBe("urgent");
  });

  it("returns null when nothing matches", () => {
    expect(matchRoute([rt("x", "a.local", "/")], "b.local", "/")).toBeNull();
    expect(matchRoute([], null, "/")).toBeNull();
  });

  it("breaks a full tie by service name, whatever order the routes come in", () => {
    const r = [
      rt("two", null, "/x/", 1),
      rt("one", null, "/x", 1),
    ];
    expect(matchRoute(r, null, "/x/y")?.service).toBe("one");
    expect(matchRoute([...r].reverse(), null, "/x/y")?.service).toBe("one");
  });

  it("pathHasPrefix respects segment boundaries", () => {
    expect(pathHasPrefix("/a/b", "/a")).toBe(true);
    expect(pathHasPrefix("/a/b", "/a/")).toBe(true);
    expect(pathHasPrefix("/ab", "/a")).toBe(false);
    expect(pathHasPrefix("/anything", "/")).toBe(true);
  });

  it("normalizeHost drops the port, case and a trailing dot", () => {
    expect(normalizeHost("TicTacToe.Local:18082")).toBe("tictactoe.local");
    expect(normalizeHost("example.com.")).toBe("example.com");
    expect(normalizeHost("[::1]:80")).toBe("[::1]");
    expect(normalizeHost(undefined)).toBeNull();
    expect(normalizeHost("")).toBeNull();
  });

  it("stripPathPrefix removes the prefix and keeps the query", () => {
    expect(stripPathPrefix("/api/users?x=1", "/api")).toBe("/users?x=1");
    expect(stripPathPrefix("/api/users", "/api/")).toBe("/users");
    expect(stripPathPrefix("/api", "/api")).toBe("/");
    expect(stripPathPrefix("/api?q", "/api")).toBe("/?q");
    expect(stripPathPrefix("/apix", "/api")).toBe("/apix");
    expect(stripPathPrefix("/x/y", "/")).toBe("/x/y");
  });
});

describe("the one route order (issue 9)", () => {
  const route = rt;

  it("sends x.local/api/v1 to the x.local + /api route, not the host-less /api/v1 route (the issue's example)", () => {
    const routes = [route("v1", null, "/api/v1"), route("xapi", "x.local", "/api")];
    expect(matchRoute(routes, "x.local", "/api/v1")?.service).toBe("xapi");
    expect(matchRoute(routes, "x.local", "/api/v1/users/7")?.service).toBe("xapi");
    // other hosts never see the x.local route
    expect(matchRoute(routes, "a.local", "/api/v1")?.service).toBe("v1");
    expect(matchRoute(routes, null, "/api/v1")?.service).toBe("v1");
    expect(matchRoute(routes, "a.local", "/api")).toBeNull();
    expect(orderRoutes(routes).map((r) => r.service)).toEqual(["xapi", "v1"]);
  });

  it("orders by priority (the rule's length unless set, as in Traefik), then the service name", () => {
    const routes = [
      route("root", null, "/"),
      route("api", null, "/api"),
      route("apiv1", null, "/api/v1/"),
      route("hosted", "x.local", "/api"),
      route("hosted-root", "x.local", "/"),
      route("b-static", null, "/static"),
      route("a-assets", null, "/assets"),
      route("urgent", null, "/", 5),
      route("urgent-host", "a.local", "/", 5),
    ];
    // "/api/v1/", "/assets" and "/static" give rules of one length: the service name orders them;
    // an explicit 5 is below every rule's length, so those two come last
    const expected = ["hosted", "hosted-root", "a-assets", "apiv1", "b-static", "api", "root", "urgent", "urgent-host"];
    expect(orderRoutes(routes).map((r) => r.service)).toEqual(expected);
    expect(orderRoutes([...routes].reverse()).map((r) => r.service)).toEqual(expected);
  });

  it("a trailing slash does not make a prefix longer", () => {
    expect(compareRoutes(route("a", null, "/api/"), route("b", null, "/api"))).toBeLessThan(0); // name decides
    expect(routePriority(route("a", null, "/api/"))).toBe(routePriority(route("b", null, "/api")));
  });

  it("a high priority beats a named host and a longer prefix; priority 1 makes a catch-all the last resort", () => {
    const routes = [route("hosted", "x.local", "/api/v1"), route("high", null, "/", 500)];
    expect(matchRoute(routes, "x.local", "/api/v1/users")?.service).toBe("high");
    const last = [route("hosted", "x.local", "/api/v1"), route("short", null, "/a"), route("all", null, "/", 1)];
    expect(matchRoute(last, "x.local", "/api/v1/users")?.service).toBe("hosted");
    expect(matchRoute(last, null, "/a/b")?.service).toBe("short");
    expect(matchRoute(last, null, "/b")?.service).toBe("all");
  });

  it("routePriority is the explicit priority, else the length of the rule as written for Traefik", () => {
    expect(routePriority(route("a", null, "/"))).toBe("PathPrefix(`/`)".length);
    expect(routePriority(route("a", "a.local", "/api"))).toBe("Host(`a.local`) && PathPrefix(`/api`)".length);
    expect(routePriority(route("a", "a.local", "/api", 3))).toBe(3);
  });

  it("orders services by their rules' route and finds a route that shadows another", () => {
    const svc = (name: string, r: object) => ({ name, rules: rulesSchema.parse({ route: r }) });
    const services = [svc("v1", { pathPrefix: "/api/v1" }), svc("xapi", { host: "x.local", pathPrefix: "/api" }), svc("all", { priority: 900 }), svc("other", { host: "b.local" })];
    expect(orderByRoute(services).map((s) => s.name)).toEqual(["all", "xapi", "other", "v1"]);
    // "all" has priority 900 on every host and path: nothing else is reached
    expect(shadowingService(services, services[0])?.name).toBe("all");
    expect(shadowingService(services, services[2])).toBeNull();
    expect(shadowingService(services.slice(0, 2), services[0])).toBeNull();
  });

  it("routeKey treats /api and /api/ as the same route (the rules refuse two services on it)", () => {
    const r = (host: string | null, pathPrefix: string) => rulesSchema.parse({ route: { host, pathPrefix } }).route;
    expect(routeKey(r(null, "/api/"))).toBe(routeKey(r(null, "/api")));
    expect(routeKey(r("x.local", "/api"))).not.toBe(routeKey(r(null, "/api")));
    expect(routeKey(r(null, "/"))).toBe("*/");
  });
});
