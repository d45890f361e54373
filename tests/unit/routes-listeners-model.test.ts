import { describe, expect, it } from "vitest";
import { exampleCurl, routeUrl, servedOn, withListener, type ListenerChoice } from "@/components/rules/routes-model";
import { reachCommands as balancerReach } from "@/components/balancer/types";
import { reachCommands } from "@/components/services/reach-command";
import { balancerUrl } from "@/components/services/service-card";
import { rulesSchema, type ServiceRoute } from "@/lib/core/rules";

const route = (hosts: string[], path = "/", listeners?: string[]): ServiceRoute => ({ hosts, path, match: "prefix", stripPrefix: false, priority: 0, ...(listeners ? { listeners } : {}) });
const LISTENERS: ListenerChoice[] = [
  { name: "default", port: 8080, protocol: "http" },
  { name: "site", port: 4000, protocol: "http" },
  { name: "secure", port: 8443, protocol: "https" },
];
const listen = { host: "0.0.0.0", port: 8080 };

describe("a route's listeners in the routes table", () => {
  it("checks and unchecks listeners; none left names none (the default listener), which the rules schema takes", () => {
    const plain = route(["a.local"]);
    expect(servedOn(plain, "default")).toBe(true);
    expect(servedOn(plain, "site")).toBe(false);
    const onSite = withListener(plain, "site", true);
    expect(onSite.listeners).toEqual(["site"]);
    expect(servedOn(onSite, "default")).toBe(false);
    const both = withListener(onSite, "default", true);
    expect(both.listeners).toEqual(["site", "default"]);
    expect(withListener(both, "default", true).listeners).toEqual(["site", "default"]);
    const none = withListener(withListener(both, "site", false), "default", false);
    expect("listeners" in none).toBe(false);
    expect(rulesSchema.safeParse({ routes: [both] }).success).toBe(true);
    expect(rulesSchema.safeParse({ routes: [none] }).success).toBe(true);
  });

  it("the example goes through the route's own listener: its port, and on https the name in the URL with --resolve and --cacert; a wildcard is never sent as a host", () => {
    expect(exampleCurl(route(["tictactoe.local", "*.local"], "/", ["site"]), listen, LISTENERS)).toBe("curl -H 'Host: tictactoe.local' http://127.0.0.1:4000/");
    expect(exampleCurl(route(["*.local"], "/play", ["site", "default"]), listen, LISTENERS)).toBe("curl -H 'Host: www.local' http://127.0.0.1:4000/play");
    expect(exampleCurl(route(["*.shop.local"], "/cart", ["secure"]), listen, LISTENERS)).toBe(
      "curl --cacert switchyard-local-ca.crt --resolve www.shop.local:8443:127.0.0.1 https://www.shop.local:8443/cart",
    );
    expect(exampleCurl(route([], "/", ["secure"]), listen, LISTENERS)).toBe("curl --cacert switchyard-local-ca.crt https://127.0.0.1:8443/");
    // no listeners named: the default one; listeners not read yet: the panel's listen port
    expect(exampleCurl(route(["a.local"]), listen, LISTENERS)).toBe("curl -H 'Host: a.local' http://127.0.0.1:8080/");
    expect(exampleCurl(route(["a.local"], "/", ["site"]), listen, null)).toBe("curl -H 'Host: a.local' http://127.0.0.1:<listener port>/");
    for (const l of [undefined, ["site"], ["secure"]]) expect(exampleCurl(route(["*.local"], "/", l), listen, LISTENERS)).not.toContain("*");
  });
});

describe("the reach hints read every route (services page, service dashboard, Balancer page)", () => {
  const rules = rulesSchema.parse({
    routes: [
      { hosts: ["tictactoe.local", "*.local"], path: "/", listeners: ["site"] },
      { hosts: ["*.shop.local"], path: "/cart", match: "exact", listeners: ["secure"] },
      { path: "/api" },
    ],
  });

  it("one command per route, each through its listener; a wildcard is an example name, never a '*'", () => {
    const want = [
      "curl -H 'Host: tictactoe.local' http://127.0.0.1:4000/",
      "curl --cacert switchyard-local-ca.crt --resolve www.shop.local:8443:127.0.0.1 https://www.shop.local:8443/cart",
      "curl http://127.0.0.1:8080/api",
    ];
    expect(reachCommands(rules, listen, LISTENERS).map((c) => c.command)).toEqual(want);
    expect(reachCommands(rules, listen, LISTENERS).map((c) => c.route)).toEqual(["tictactoe.local, *.local /", "*.shop.local =/cart", "any host /api"]);
    expect(balancerReach(listen, rules, LISTENERS)).toEqual(want);
    const wildFirst = rulesSchema.parse({ routes: [{ hosts: ["*.local"], path: "/" }] });
    for (const cmd of [...reachCommands(wildFirst, listen).map((c) => c.command), ...balancerReach(listen, wildFirst)]) {
      expect(cmd).toBe("curl -H 'Host: www.local' http://127.0.0.1:8080/");
    }
  });

  it("the services list's URL: the route's example name, its listener's scheme and port, and where to send it", () => {
    expect(routeUrl(rules.routes[0], listen, LISTENERS)).toEqual({ url: "http://tictactoe.local:4000/", via: "127.0.0.1:4000", https: false });
    expect(routeUrl(rules.routes[1], listen, LISTENERS)).toEqual({ url: "https://www.shop.local:8443/cart", via: "127.0.0.1:8443", https: true });
    expect(routeUrl(rules.routes[2], listen, LISTENERS)).toEqual({ url: "http://127.0.0.1:8080/api", via: null, https: false });
    expect(balancerUrl({ host: "*.local", pathPrefix: "/", stripPrefix: false, priority: 0 }, listen)).toEqual({ url: "http://www.local:8080/", via: "127.0.0.1:8080" });
  });
});
