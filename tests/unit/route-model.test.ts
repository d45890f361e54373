import { describe, expect, it } from "vitest";
import { matchRoute, orderRoutes, routePriority, ruleText, type Route } from "@/lib/core/route-match";
import { unknownRouteListeners } from "@/lib/core/route-listeners";
import { describeShadow, hostCovers, pathCovers, shadowFindings, shadowedRoutes } from "@/lib/core/route-shadow";
import { parseTryUrl, tryRoute } from "@/lib/core/route-try";
import { conflictingRoute, onOwnHost, routeConflict } from "@/lib/core/routes";
import { rulesSchema } from "@/lib/core/rules";
import { parseRules, revisionRulesOf } from "@/lib/db/rows";

const r = (service: string, hosts: string[], path: string, match: "prefix" | "exact" = "prefix", priority = 0, index = 0): Route => ({ service, hosts, path, match, priority, index });

describe("rules.routes: the schema", () => {
  it("turns the old single route into one route and shows the first route as `route`", () => {
    const rules = rulesSchema.parse({ route: { host: "api.local", pathPrefix: "/api", stripPrefix: true, priority: 3 } });
    expect(rules.routes).toEqual([{ hosts: ["api.local"], path: "/api", match: "prefix", stripPrefix: true, priority: 3 }]);
    expect(rules.route).toEqual({ host: "api.local", pathPrefix: "/api", stripPrefix: true, priority: 3 });
    expect(rulesSchema.parse({}).routes).toEqual([{ hosts: [], path: "/", match: "prefix", stripPrefix: false, priority: 0 }]);
  });

  it("takes a list of routes (hosts, wildcards, exact paths, listeners); routes win over the read-only route", () => {
    const rules = rulesSchema.parse({
      route: { pathPrefix: "/ignored" },
      routes: [
        { hosts: ["tictactoe.local", "api.local", "*.local"], path: "/" },
        { path: "/api/student", match: "exact", listeners: ["public"] },
      ],
    });
    expect(rules.routes).toHaveLength(2);
    expect(rules.routes[1]).toEqual({ hosts: [], path: "/api/student", match: "exact", stripPrefix: false, priority: 0, listeners: ["public"] });
    expect(rules.route.pathPrefix).toBe("/");
    // what it outputs parses again to the same value (a GET's rules PUT back)
    expect(rulesSchema.parse(rules)).toEqual(rules);
  });

  it("refuses hostile or malformed hosts, paths, listeners and duplicates", () => {
    const bad = (route: object) => rulesSchema.safeParse({ routes: [route] }).success;
    for (const host of ["*", "*.", "*.*.local", "a.*.local", "x*.local", "A.local", "a b", "a.local;", "-a.local", "*local", `${"a".repeat(64)}.local`, "a..local", "a.local\n"]) {
      expect(bad({ hosts: [host] }), host).toBe(false);
    }
    for (const path of ["api", "/a b", "/a/../b", "//a", "/a;b", "/a{b}"]) expect(bad({ path }), path).toBe(false);
    expect(bad({ match: "regex" })).toBe(false);
    expect(bad({ listeners: ["Public"] })).toBe(false);
    expect(bad({ listeners: [] })).toBe(false);
    expect(bad({ hosts: ["a.local", "a.local"] })).toBe(false);
    expect(bad({ priority: -1 })).toBe(false);
    expect(bad({ priority: 100_001 })).toBe(false);
    expect(bad({ extra: 1 })).toBe(false);
    expect(rulesSchema.safeParse({ routes: [] }).success).toBe(false);
    // two routes of one service on the same host and path (a prefix's trailing slash aside)
    const dup = rulesSchema.safeParse({ routes: [{ hosts: ["a.local"], path: "/api" }, { hosts: ["b.local", "a.local"], path: "/api/" }] });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0].message).toContain("a.local /api");
    // the same path exact and as a prefix are different routes
    expect(rulesSchema.safeParse({ routes: [{ path: "/api" }, { path: "/api", match: "exact" }] }).success).toBe(true);
  });

  it("migrates stored rows and old revisions' snapshots to one route each", () => {
    const old = JSON.stringify({ algorithm: "least_conn", route: { host: "tictactoe.local", pathPrefix: "/", stripPrefix: false, priority: 0 } });
    expect(parseRules(old).routes).toEqual([{ hosts: ["tictactoe.local"], path: "/", match: "prefix", stripPrefix: false, priority: 0 }]);
    const snapshot = { number: 4, config: JSON.stringify({ services: [{ id: "s1", rules: JSON.parse(old) }] }) };
    expect(revisionRulesOf(snapshot)[0].rules.routes[0].hosts).toEqual(["tictactoe.local"]);
  });
});

describe("matching: hosts and paths", () => {
  it("a wildcard takes names under its suffix at any depth, never the bare suffix", () => {
    const routes = [r("site", ["tictactoe.local", "api.local", "*.local"], "/")];
    for (const h of ["tictactoe.local", "api.local", "x.local", "a.b.local"]) expect(matchRoute(routes, h, "/x")?.service, h).toBe("site");
    for (const h of ["local", "xlocal", "x.local.evil", null]) expect(matchRoute(routes, h, "/x"), String(h)).toBeNull();
  });

  it("an exact path takes only itself; a prefix takes whole segments", () => {
    const routes = [r("student", [], "/api/student", "exact"), r("root", [], "/")];
    expect(matchRoute(routes, null, "/api/student")?.service).toBe("student");
    expect(matchRoute(routes, null, "/api/student/1")?.service).toBe("root");
    expect(matchRoute(routes, null, "/api/student/")?.service).toBe("root");
    expect(matchRoute(routes, null, "/api/students")?.service).toBe("root");
  });

  it("orders like Traefik: the longer rule first, explicit priorities where set, priority 1 on / last", () => {
    const gateway = [
      r("notifications", [], "/api/notifications", "prefix", 0, 0),
      r("notifications", [], "/ws", "prefix", 0, 1),
      r("social", [], "/api/social", "prefix", 0, 0),
      r("social", [], "/swagger-ui", "prefix", 0, 1),
      r("frontend", [], "/", "prefix", 1, 0),
    ];
    expect(orderRoutes(gateway).map((x) => `${x.service}#${x.index}`)).toEqual(["notifications#0", "social#0", "social#1", "notifications#1", "frontend#0"]);
    expect(matchRoute(gateway, null, "/ws")?.service).toBe("notifications");
    expect(matchRoute(gateway, null, "/anything")?.service).toBe("frontend");
    expect(routePriority(gateway[4])).toBe(1);
    expect(ruleText(r("s", ["a.local", "*.b.local"], "/x", "exact"))).toBe("(Host(`a.local`) || HostRegexp(`^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.b\\.local$`)) && Path(`/x`)");
  });

  it("with a listener, only routes served on it count (no listeners: the default one)", () => {
    const routes = [{ ...r("public", [], "/"), listeners: ["public"] }, r("internal", [], "/")];
    expect(matchRoute(routes, null, "/", "public")?.service).toBe("public");
    expect(matchRoute(routes, null, "/", "default")?.service).toBe("internal");
    expect(unknownRouteListeners(routes, ["default"])).toEqual([{ service: "public", index: 0, listener: "public" }]);
    expect(unknownRouteListeners(routes, ["default", "public"])).toEqual([]);
  });
});

describe("shadowed routes", () => {
  it("hostCovers and pathCovers", () => {
    expect(hostCovers(null, "a.local")).toBe(true);
    expect(hostCovers("a.local", null)).toBe(false);
    expect(hostCovers("*.local", "a.local")).toBe(true);
    expect(hostCovers("*.local", "*.b.local")).toBe(true);
    expect(hostCovers("*.b.local", "*.local")).toBe(false);
    expect(hostCovers("*.local", "local")).toBe(false);
    expect(hostCovers("a.local", "*.local")).toBe(false);
    expect(pathCovers({ path: "/api", match: "prefix" }, { path: "/api/v1", match: "prefix" })).toBe(true);
    expect(pathCovers({ path: "/api", match: "prefix" }, { path: "/api/", match: "prefix" })).toBe(true);
    expect(pathCovers({ path: "/api", match: "prefix" }, { path: "/apix", match: "prefix" })).toBe(false);
    expect(pathCovers({ path: "/api", match: "prefix" }, { path: "/api/student", match: "exact" })).toBe(true);
    expect(pathCovers({ path: "/api/student", match: "exact" }, { path: "/api/student", match: "prefix" })).toBe(false);
    expect(pathCovers({ path: "/x", match: "exact" }, { path: "/x", match: "exact" })).toBe(true);
  });

  it("names the route that catches every request of a later one", () => {
    // an explicit high priority on / hides everything on any host
    const all = r("all", [], "/", "prefix", 900);
    const api = r("api", ["api.local"], "/api");
    expect(shadowedRoutes([api, all])).toEqual([{ route: api, by: [all] }]);
    // a catch-all with priority 1 hides nothing
    expect(shadowedRoutes([api, r("all", [], "/", "prefix", 1)])).toEqual([]);
  });

  it("wildcards, exact hosts and several hosts: shadowed only when every host is caught", () => {
    const wild = r("wild", ["*.local"], "/", "prefix", 500);
    const exactHost = r("one", ["a.local"], "/x");
    const twoHosts = r("two", ["a.local", "other.test"], "/x");
    const shadow = shadowedRoutes([wild, exactHost, twoHosts]);
    expect(shadow.map((s) => s.route.service)).toEqual(["one"]);
    expect(shadow[0].by.map((b) => b.service)).toEqual(["wild"]);
    // the other host caught too, by another route: shadowed, both named
    const other = r("other", ["other.test"], "/", "prefix", 400);
    const all = shadowedRoutes([wild, twoHosts, other]);
    expect(all.map((s) => [s.route.service, s.by.map((b) => b.service)])).toEqual([["two", ["wild", "other"]]]);
  });

  it("an exact path is hidden by a prefix tried first, never the other way round", () => {
    const prefix = r("api", [], "/api", "prefix", 600);
    const exact = r("student", [], "/api/student", "exact");
    expect(shadowedRoutes([prefix, exact]).map((s) => s.route.service)).toEqual(["student"]);
    expect(shadowedRoutes([r("api", [], "/api"), exact])).toEqual([]);
    expect(shadowedRoutes([r("x", [], "/api/student", "exact", 700), r("y", [], "/api/student")])).toEqual([]);
  });

  it("a route on another listener does not hide it", () => {
    const a = { ...r("a", [], "/", "prefix", 900), listeners: ["public"] };
    expect(shadowedRoutes([a, r("b", [], "/x")])).toEqual([]);
  });
});

describe("two services on the same host and path", () => {
  const svc = (name: string, routes: object[]) => ({ name, rules: rulesSchema.parse({ routes }) });
  it("any shared host and path is a conflict; wildcards and exact paths are their own keys", () => {
    const others = [svc("site", [{ hosts: ["a.local", "*.local"], path: "/" }]), svc("api", [{ path: "/api/student", match: "exact" }])];
    expect(routeConflict(rulesSchema.parse({ routes: [{ hosts: ["b.local", "a.local"], path: "/" }] }), others)).toBe("site");
    expect(routeConflict(rulesSchema.parse({ routes: [{ hosts: ["*.local"], path: "/x" }] }), others)).toBeNull();
    expect(routeConflict(rulesSchema.parse({ routes: [{ path: "/api/student" }] }), others)).toBeNull();
    expect(conflictingRoute(rulesSchema.parse({ routes: [{ path: "/x" }, { path: "/api/student", match: "exact" }] }), others)).toEqual({ route: "any host =/api/student", service: "api" });
  });
});

describe("shadow findings for one service, as preview and apply report them", () => {
  it("names the hidden route and the one that hides it, for the service changed only", () => {
    const routes = [r("all", [], "/", "prefix", 900), r("web", ["a.local"], "/x", "prefix", 0, 1), r("old", [], "/y")];
    const mine = shadowFindings(routes, "web");
    expect(mine).toEqual([{ shadowed: { service: "web", route: 2, describes: "a.local /x" }, by: [{ service: "all", route: 1, describes: "any host /" }] }]);
    expect(describeShadow(mine[0])).toBe("route 2 of web (a.local /x) is never reached: route 1 of all (any host /) catches its requests first");
    // the service that hides others is told too
    expect(shadowFindings(routes, "all").map((f) => f.shadowed.service)).toEqual(["web", "old"]);
  });
});

describe("try a URL", () => {
  it("parses URLs, bare host/paths and paths, and refuses other schemes", () => {
    expect(parseTryUrl("http://API.local:8080/api/x?q=1")).toEqual({ host: "api.local:8080", target: "/api/x?q=1" });
    expect(parseTryUrl("tictactoe.local/play")).toEqual({ host: "tictactoe.local", target: "/play" });
    expect(parseTryUrl("/ws")).toEqual({ host: null, target: "/ws" });
    expect(parseTryUrl("ftp://x/")).toHaveProperty("error");
    expect(parseTryUrl("")).toHaveProperty("error");
  });

  it("says which route and service a URL reaches, what the replica gets, and what else would take it", () => {
    const routes = [
      { ...r("notifications", [], "/api/notifications"), stripPrefix: true },
      { ...r("frontend", [], "/", "prefix", 1), stripPrefix: false },
    ];
    const hit = tryRoute(routes, "gw.local", "/api/notifications/7?x=1");
    expect(hit.reached).toMatchObject({ service: "notifications", route: 1, upstreamPath: "/7?x=1", stripPrefix: true });
    expect(hit.candidates.map((c) => c.service)).toEqual(["notifications", "frontend"]);
    expect(tryRoute(routes, null, "/other").reached).toMatchObject({ service: "frontend", priority: 1, upstreamPath: "/other" });
    expect(tryRoute([routes[0]], null, "/other")).toMatchObject({ reached: null, candidates: [] });
  });
});

describe("a new service whose default route is taken", () => {
  it("moves its first route to <name>.local, in routes (what is stored and parsed) and in the read-only route", () => {
    const rules = onOwnHost(rulesSchema.parse({}), "shop");
    expect(rules.routes[0].hosts).toEqual(["shop.local"]);
    expect(rules.route.host).toBe("shop.local");
    // stored as JSON and parsed again, it keeps the host
    expect(rulesSchema.parse(JSON.parse(JSON.stringify(rules))).routes[0].hosts).toEqual(["shop.local"]);
  });
});
