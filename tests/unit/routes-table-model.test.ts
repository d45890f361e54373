import { describe, expect, it } from "vitest";
import { effectivePriority, exampleCurl, hiddenWithin, hostsOf, moveRoute, triedOrder } from "@/components/rules/routes-model";
import type { ServiceRoute } from "@/lib/core/rules";

const r = (path: string, priority = 0, hosts: string[] = [], match: "prefix" | "exact" = "prefix"): ServiceRoute => ({ hosts, path, match, stripPrefix: false, priority });

describe("the routes table's model", () => {
  const routes = [r("/", 1), r("/api", 0, ["api.local", "*.local"]), r("/api/student", 0, [], "exact")];

  it("lists routes in the order they are tried, with their priority (the rule's length unless set)", () => {
    expect(triedOrder(routes)).toEqual([1, 2, 0]);
    expect(effectivePriority(routes[0])).toEqual({ value: 1, auto: false });
    expect(effectivePriority(routes[2])).toEqual({ value: "Path(`/api/student`)".length, auto: true });
  });

  it("moves a route earlier or later by setting explicit priorities around its neighbour", () => {
    const up = moveRoute(routes, 2, -1);
    expect(triedOrder(up)).toEqual([2, 1, 0]);
    const down = moveRoute(routes, 1, 1);
    expect(triedOrder(down)).toEqual([2, 1, 0]);
    // the last one cannot go further; moving before a priority-1 route raises that route instead
    expect(moveRoute(routes, 0, 1)).toEqual(routes);
    const beforeLast = moveRoute([r("/a"), r("/", 1)], 0, 1);
    expect(triedOrder(beforeLast)).toEqual([1, 0]);
  });

  it("shows a request each route catches, and reads the hosts field", () => {
    expect(exampleCurl(routes[1], { host: "0.0.0.0", port: 8080 })).toBe("curl -H 'Host: api.local' http://127.0.0.1:8080/api");
    expect(exampleCurl(r("/x", 0, ["*.shop.local"]), { host: "127.0.0.2", port: 80 })).toBe("curl -H 'Host: www.shop.local' http://127.0.0.2:80/x");
    expect(exampleCurl(routes[2], null)).toBe("curl http://127.0.0.1:<listener port>/api/student");
    expect(hostsOf(" a.local, *.b.local  c.local ")).toEqual(["a.local", "*.b.local", "c.local"]);
    expect(hostsOf("")).toEqual([]);
  });

  it("says which of the service's own routes hide another", () => {
    expect(hiddenWithin(routes)).toEqual(new Map());
    expect(hiddenWithin([...routes, r("/api/v1", 0, ["a.local"])])).toEqual(new Map([[3, [2]]]));
    // a priority being typed (NaN) judges nothing
    expect(hiddenWithin([r("/", Number.NaN), r("/x")])).toEqual(new Map());
  });
});
