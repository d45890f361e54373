/**
 * Issue 14, item 3: the endpoints and discovery fields a service accepts. Endpoints are
 * rendered into engine configs, so the checks are strict: host names, IPv4, [IPv6], a
 * port, nothing else.
 */
import { describe, expect, it } from "vitest";
import { createServiceSchema, discoverLabels, discoverSchema, endpointsSchema, parseEndpoint, updateServiceSchema } from "@/lib/core/service";
import { externalReplicaId } from "@/lib/runtime/external";
import { discoveredReplicaId, reachableAddress } from "@/lib/runtime/docker-discovery";

describe("endpoints", () => {
  it("accepts host names, IPv4 and bracketed IPv6 with a port, in one spelling", () => {
    expect(endpointsSchema.parse(["127.0.0.1:8080", " API.internal:80 ", "[::1]:9000", "[2001:DB8::10]:443", "[::ffff:10.0.0.1]:1"])).toEqual([
      "127.0.0.1:8080",
      "api.internal:80",
      "[::1]:9000",
      "[2001:db8::10]:443",
      "[::ffff:10.0.0.1]:1",
    ]);
  });

  it.each([
    ["http://10.0.0.1:80", "no scheme"],
    ["10.0.0.1:80/x", "no scheme and no path"],
    ["10.0.0.1", "host:port"],
    ["10.0.0.1:0", "a port from 1"],
    ["10.0.0.1:65536", "a port from 1"],
    ["10.0.0.256:80", "not a host name"],
    ["1.2.3:80", "not a host name"],
    ["::1:80", "in brackets"],
    ["[::1::2]:80", "not an IPv6"],
    ["[1:2:3:4:5:6:7:8:9]:80", "not an IPv6"],
    ["a b:80", "not a host name"],
    ["-a.b:80", "not a host name"],
    ["a;b:80", "not a host name"],
    ["user@h:80", "not a host name"],
    ["h:80\n", "a port from 1"],
    ["[fe80::1%eth0]:80", "not an IPv6"],
  ])("refuses %j (%s)", (text, why) => {
    const r = parseEndpoint(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });

  it("bounds the list and refuses duplicates after normalising", () => {
    expect(endpointsSchema.safeParse([]).success).toBe(false);
    expect(endpointsSchema.safeParse(Array.from({ length: 65 }, (_, i) => `10.0.0.1:${1000 + i}`)).success).toBe(false);
    expect(endpointsSchema.safeParse(["h:80", "H:80"]).success).toBe(false);
  });

  it("cross-field rules: external needs endpoints and no image or command; endpoints only for external; discover only with docker", () => {
    const base = { name: "pool" };
    expect(createServiceSchema.safeParse({ ...base, runtime: "external", endpoints: ["10.0.0.1:80"] }).success).toBe(true);
    expect(createServiceSchema.safeParse({ ...base, runtime: "external" }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, runtime: "external", endpoints: ["10.0.0.1:80"], image: "x:1" }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, runtime: "external", endpoints: ["10.0.0.1:80"], command: ["node"] }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, runtime: "process", endpoints: ["10.0.0.1:80"] }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, runtime: "docker", discover: { label: "com.docker.compose.service=api" } }).success).toBe(true);
    expect(createServiceSchema.safeParse({ ...base, runtime: "process", discover: { project: "shop" } }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, runtime: "docker", discover: { project: "shop" }, image: "x:1" }).success).toBe(false);
    expect(updateServiceSchema.safeParse({ endpoints: ["10.0.0.1:80", "10.0.0.2:80"] }).success).toBe(true);
  });
});

describe("discovery", () => {
  it("a label or a compose project and service, as Engine API label filters", () => {
    expect(discoverLabels(discoverSchema.parse({ label: "com.docker.compose.service=api" }))).toEqual(["com.docker.compose.service=api"]);
    expect(discoverLabels(discoverSchema.parse({ label: "traefik.enable" }))).toEqual(["traefik.enable"]);
    expect(discoverLabels(discoverSchema.parse({ project: "shop", service: "api" }))).toEqual(["com.docker.compose.project=shop", "com.docker.compose.service=api"]);
    for (const bad of [{ label: "a b=c" }, { label: "=x" }, { label: "k=v w" }, { project: "Shop" }, { project: "shop", label: "x" }, {}]) {
      expect(discoverSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("the address: host networking on loopback, a published port on loopback, else the name on the panel's network", () => {
    const c = { name: "shop-api-1", networkMode: "bridge", networks: ["shop_default"], published: [] as { privatePort: number; publicPort?: number; ip?: string; type: string }[] };
    expect(reachableAddress({ ...c, networkMode: "host" }, 3000, "host")).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(reachableAddress({ ...c, published: [{ privatePort: 3000, publicPort: 29801, ip: "0.0.0.0", type: "tcp" }] }, 3000, "host")).toEqual({ host: "127.0.0.1", port: 29801 });
    expect(reachableAddress({ ...c, published: [{ privatePort: 3000, publicPort: 29801, ip: "127.0.0.2", type: "tcp" }] }, 3000, "host")).toEqual({ host: "127.0.0.2", port: 29801 });
    expect(reachableAddress(c, 3000, "shop_default")).toEqual({ host: "shop-api-1", port: 3000 });
    expect(reachableAddress(c, 3000, "host")).toBeNull();
  });
});

describe("replica ids of instances the panel did not start", () => {
  it("are stable, readable, per service, and fit an engine server name", () => {
    const a = externalReplicaId("svc1", "127.0.0.1:29801");
    expect(a).toMatch(/^e127001p29801[a-z0-9]{4}$/);
    expect(externalReplicaId("svc1", "127.0.0.1:29801")).toBe(a);
    expect(externalReplicaId("svc2", "127.0.0.1:29801")).not.toBe(a);
    expect(externalReplicaId("svc1", "a-b.example.internal.long.name:65535").length).toBeLessThanOrEqual(24);
    expect(discoveredReplicaId("shop-api-1", "3fa9c2d81e")).toBe("dshopapi13fa9c2");
  });
});

describe("the service form's endpoints and discovery", async () => {
  const { emptyForm, toCreateBody, toUpdateBody, formFromService } = await import("@/components/services/service-form-model");
  const { aServiceView } = await import("../helpers/service-view");

  it("an external service's body holds only what applies: name, runtime, endpoints (blank rows left out), rules", () => {
    const v = { ...emptyForm(), name: "pool", runtime: "external" as const, endpoints: ["127.0.0.1:29900", " ", "api.internal:80"], healthPath: "/api/health" };
    const r = toCreateBody(v);
    expect(r.ok && r.body).toEqual({ name: "pool", runtime: "external", endpoints: ["127.0.0.1:29900", "api.internal:80"], rules: { healthCheck: { path: "/api/health", expectStatus: 200 } } });
    const bad = toCreateBody({ ...v, endpoints: ["http://x:1"] });
    expect(!bad.ok && bad.errors.endpoints).toMatch(/^endpoint 1: .*no scheme/);
  });

  it("a discovering docker service: discover and the data port; an edit sends only a changed list", () => {
    const r = toCreateBody({ ...emptyForm("docker"), name: "api", dockerSource: "discover", discoverProject: "shop", discoverService: "api", dataPort: "3000" });
    expect(r.ok && r.body).toEqual({ name: "api", runtime: "docker", discover: { project: "shop", service: "api" }, dataPort: 3000 });
    const before = aServiceView({ runtime: "external", endpoints: ["127.0.0.1:1", "127.0.0.1:2"] });
    const same = formFromService(before);
    expect(toUpdateBody(same, before)).toEqual({ ok: true, body: {} });
    const edited = toUpdateBody({ ...same, endpoints: ["127.0.0.1:2", "127.0.0.1:3"] }, before);
    expect(edited).toEqual({ ok: true, body: { endpoints: ["127.0.0.1:2", "127.0.0.1:3"] } });
  });
});
