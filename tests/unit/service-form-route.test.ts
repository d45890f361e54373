import { describe, expect, it } from "vitest";
import { emptyForm, routeOf, toCreateBody } from "@/components/services/service-form-model";
import { balancerUrl } from "@/components/services/service-card";

const form = (patch: Partial<ReturnType<typeof emptyForm>>) => ({ ...emptyForm(), name: "shop", ...patch });

describe("the create form's route fields (issue 12, item 12)", () => {
  it("sends no rules when the route is left at its default (the panel picks <name>.local if / is taken)", () => {
    const r = toCreateBody(form({}));
    expect(r.ok && r.body.rules).toBeUndefined();
    expect(routeOf(emptyForm())).toBeNull();
  });

  it("sends the route as the rules' first route: hosts, path prefix, strip", () => {
    const r = toCreateBody(form({ routeHost: "Shop.Local ", routePathPrefix: "/api", routeStripPrefix: true }));
    expect(r.ok).toBe(true);
    expect(r.ok && r.body.rules).toEqual({ routes: [{ hosts: ["shop.local"], path: "/api", stripPrefix: true }] });
    // a wildcard is a host of the route too
    const wild = toCreateBody(form({ routeHost: "*.Local" }));
    expect(wild.ok && wild.body.rules).toEqual({ routes: [{ hosts: ["*.local"], path: "/", stripPrefix: false }] });
  });

  it.each([
    ["a host with a space", { routeHost: "shop local" }, "routeHost"],
    ["a host with a port", { routeHost: "shop.local:80" }, "routeHost"],
    ["a path without a slash", { routePathPrefix: "api" }, "routePathPrefix"],
    ["a path with a dot segment", { routePathPrefix: "/a/../b" }, "routePathPrefix"],
    ["a path with a double slash", { routePathPrefix: "//evil" }, "routePathPrefix"],
  ])("refuses %s on its own field", (_what, patch, field) => {
    const r = toCreateBody(form(patch));
    expect(r.ok).toBe(false);
    expect(!r.ok && Object.keys(r.errors)).toContain(field);
  });
});

describe("the services list's balancer URL", () => {
  it("is the listener and the path prefix, or the route's host with the listener named", () => {
    expect(balancerUrl({ host: null, pathPrefix: "/", stripPrefix: false, priority: 0 }, { host: "0.0.0.0", port: 8080 })).toEqual({ url: "http://127.0.0.1:8080/", via: null });
    expect(balancerUrl({ host: null, pathPrefix: "/api", stripPrefix: true, priority: 0 }, { host: "127.0.0.2", port: 18400 })).toEqual({ url: "http://127.0.0.2:18400/api", via: null });
    expect(balancerUrl({ host: "shop.local", pathPrefix: "/", stripPrefix: false, priority: 0 }, { host: "::", port: 8080 })).toEqual({ url: "http://shop.local:8080/", via: "127.0.0.1:8080" });
    expect(balancerUrl({ host: null, pathPrefix: "/", stripPrefix: false, priority: 0 }, { host: "::1", port: 8080 }).url).toBe("http://[::1]:8080/");
  });
});
