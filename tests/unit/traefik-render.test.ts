import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv"; // draft-07, which the Traefik schema declares
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/core/errors";
import { rulesSchema, type RulesInput } from "@/lib/core/rules";
import { orderByRoute } from "@/lib/core/routes";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";
import { engineDescriptors } from "@/lib/engines/descriptors";
import { traefikCapabilities, traefikRenderer } from "@/lib/engines/traefik";
import { renderTraefik, renderTraefikDockerLabels, routerPriority, routerRule, traefikDynamicConfig } from "@/lib/engines/traefik/render";
import { goldenCases, server as srv } from "../fixtures/nginx/balancer-configs";
import { expectGolden } from "../helpers/golden";

const repoRoot = path.resolve(__dirname, "../..");
const fixtures = path.resolve(__dirname, "../fixtures/traefik");
// Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/traefik-render.test.ts

// The SchemaStore schema is not the project's own text: it lives beside the project
// (../shared/fixtures, present in CI) and is never copied into it. Where it is absent (a
// user's clone) the schema check below is skipped and says why; every other assertion on
// the exported YAML runs everywhere. The documents to check are collected as the tests
// below produce them and validated together at the end of the file.
const schemaPath = path.resolve(repoRoot, "../shared/fixtures/traefik-v3-file-provider.schema.json");
const hasSchema = existsSync(schemaPath);
if (!hasSchema) console.warn(`\n*** SKIPPING the Traefik schema check: ${schemaPath} does not exist (it is an optional fixture kept beside the project, see ../shared/fixtures/README.md) ***\n`);
const exportedDocs: { name: string; doc: unknown }[] = [];
const checkAgainstSchema = (name: string, doc: unknown) => exportedDocs.push({ name, doc });

describe("renderTraefik golden files", () => {
  for (const c of goldenCases) {
    it(`renders ${c.name}.yaml`, () => {
      const file = path.join(fixtures, `${c.name}.yaml`);
      const rendered = renderTraefik(c.config);
      expectGolden(file, rendered);
      const doc = parse(rendered);
      checkAgainstSchema(`golden ${c.name}.yaml`, doc);
      expect(doc).toEqual(JSON.parse(JSON.stringify(traefikDynamicConfig(c.config))));
    });
  }
});

const svc = (rules: RulesInput = {}, servers: BalancerServer[] = [srv("a", 9001)], name = "web"): BalancerService => ({ id: "s", name, rules: rulesSchema.parse(rules), servers });
const cfg = (...services: BalancerService[]): BalancerConfig => ({ listen: { host: "127.0.0.1", port: 8080 }, services });

describe("renderTraefik shape", () => {
  it("routes on host and whole path segments, and orders routers like the rules model", () => {
    expect(routerRule(rulesSchema.parse({}))).toBe("PathPrefix(`/`)");
    expect(routerRule(rulesSchema.parse({ route: { pathPrefix: "/api/", host: "a.local" } }))).toBe("Host(`a.local`) && (Path(`/api`) || PathPrefix(`/api/`))");
    const p = (route: RulesInput["route"]) => routerPriority(rulesSchema.parse({ route }));
    // Traefik's own default: the length of the rule as written (PathPrefix(`/api`)), explicit priorities as given
    expect(p({ priority: 900 })).toBeGreaterThan(p({ host: "a.local", pathPrefix: "/very/long/prefix" }));
    expect(p({ priority: 1 })).toBe(1);
    expect(p({ host: "a.local", pathPrefix: "/api" })).toBe("Host(`a.local`) && PathPrefix(`/api`)".length);
    expect(p({ pathPrefix: "/api/v1" })).toBeGreaterThan(p({ pathPrefix: "/api" }));
    expect(p({})).toBeGreaterThan(0); // 0 would mean "by rule length" to Traefik too: written out all the same
    expect(p({ priority: 100_000, host: "a.local", pathPrefix: `/${"a".repeat(255)}` })).toBeLessThan(2 ** 31);
  });

  it("gives routers priorities that try them in lib/core's one route order (x.local + /api before a host-less /api/v1)", () => {
    const services = [
      svc({ route: { pathPrefix: "/api/v1" } }, undefined, "v1"),
      svc({ route: { host: "x.local", pathPrefix: "/api" } }, undefined, "xapi"),
      svc({ route: { host: "x.local" } }, undefined, "xroot"),
      svc({ route: { pathPrefix: "/static/" } }, undefined, "assets"),
      svc({ route: { priority: 500 } }, undefined, "urgent"),
      svc({}, undefined, "root"),
    ];
    const routers = traefikDynamicConfig(cfg(...services)).http.routers;
    // equal priorities (/api/v1 and /static/ are equally long) never match the same request; lib/core orders them by name
    const byPriority = Object.entries(routers).sort(([an, a], [bn, b]) => b.priority - a.priority || (an < bn ? -1 : 1));
    expect(byPriority.map(([name]) => name)).toEqual(orderByRoute(services).map((s) => s.name));
    expect(byPriority.map(([name]) => name)).toEqual(["urgent", "xapi", "xroot", "assets", "v1", "root"]);
  });

  it("leaves drained, maint and weight-0 replicas out and keeps weights", () => {
    const doc = traefikDynamicConfig(cfg(svc({}, [srv("a", 9001, { weight: 5 }), srv("b", 9002, { adminState: "drain" }), srv("c", 9003, { adminState: "maint" }), srv("d", 9004, { weight: 0 })])));
    expect(doc.http.services.web.loadBalancer.servers).toEqual([{ url: "http://127.0.0.1:9001", weight: 5 }]);
  });

  it("exports sticky cookies, health checks, strip prefix and retries", () => {
    const doc = traefikDynamicConfig(
      cfg(
        svc({
          sticky: { mode: "cookie", cookieName: "SID", maxAgeS: 120 },
          healthCheck: { path: "/ready", intervalMs: 1500, timeoutMs: 500, expectStatus: 204 },
          route: { pathPrefix: "/app/", stripPrefix: true },
          retries: { count: 2 },
        }),
      ),
    );
    expect(doc.http.services.web.loadBalancer.sticky).toEqual({ cookie: { name: "SID", httpOnly: true, secure: false, sameSite: "lax", maxAge: 120 } });
    expect(doc.http.services.web.loadBalancer.healthCheck).toEqual({ path: "/ready", interval: "1500ms", timeout: "500ms", status: 204 });
    expect(doc.http.middlewares).toEqual({ "web-strip": { stripPrefix: { prefixes: ["/app"] } }, "web-retry": { retry: { attempts: 3 } } });
    expect(doc.http.routers.web.middlewares).toEqual(["web-strip", "web-retry"]);
    checkAgainstSchema("sticky cookies, health checks, strip prefix and retries", doc);
  });

  it("keeps the health-check timeout below the interval, as Traefik requires", () => {
    const hc = (healthCheck: RulesInput["healthCheck"]) => traefikDynamicConfig(cfg(svc({ healthCheck }))).http.services.web.loadBalancer.healthCheck;
    expect(hc({ intervalMs: 500, timeoutMs: 1000 })).toMatchObject({ interval: "500ms", timeout: "450ms" });
    expect(hc({ intervalMs: 2000, timeoutMs: 2000 })).toMatchObject({ interval: "2s", timeout: "1800ms" });
    expect(hc({ intervalMs: 2000, timeoutMs: 300 })).toMatchObject({ interval: "2s", timeout: "300ms" });
  });

  it("leaves out a service with no replica in rotation (the schema needs a server) and says so", () => {
    const config = cfg(svc({}, [], "void"), svc({}, [srv("a", 9001, { adminState: "maint" })], "dark"));
    const doc = traefikDynamicConfig(config);
    expect(doc.http.routers).toEqual({});
    expect(doc.http.services).toEqual({});
    checkAgainstSchema("no replica in rotation", doc);
    expect(renderTraefik(config)).toContain("# Not exported (no replica in rotation): void, dark");
  });

  it("refuses names and paths the patterns do not allow", () => {
    expect(() => traefikDynamicConfig(cfg(svc({}, undefined, "Web`)")))).toThrow(AppError);
    const bad = svc({ route: { host: "a.local" } });
    bad.rules.routes[0].hosts = ["a.local`) || Host(`b"];
    expect(() => traefikDynamicConfig(cfg(bad))).toThrow(AppError);
    const badPath = svc();
    badPath.rules.routes[0].path = "/a`)";
    expect(() => traefikDynamicConfig(cfg(badPath))).toThrow(AppError);
    expect(() => traefikDynamicConfig(cfg(svc(), svc()))).toThrow(/twice/);
  });
});

describe("renderTraefikDockerLabels", () => {
  it("labels a service's containers", () => {
    const labels = renderTraefikDockerLabels(
      svc({ route: { host: "shop.local", pathPrefix: "/shop", stripPrefix: true }, sticky: { mode: "cookie", cookieName: "SID", maxAgeS: 60 }, retries: { count: 1 } }, [srv("a", 9300)], "shop"),
    );
    expect(labels).toEqual({
      "traefik.enable": "true",
      "traefik.http.routers.shop.rule": "Host(`shop.local`) && (Path(`/shop`) || PathPrefix(`/shop/`))",
      "traefik.http.routers.shop.priority": String("Host(`shop.local`) && PathPrefix(`/shop`)".length),
      "traefik.http.routers.shop.service": "shop",
      "traefik.http.routers.shop.middlewares": "shop-strip,shop-retry",
      "traefik.http.middlewares.shop-strip.stripprefix.prefixes": "/shop",
      "traefik.http.middlewares.shop-retry.retry.attempts": "2",
      "traefik.http.services.shop.loadbalancer.server.port": "9300",
      "traefik.http.services.shop.loadbalancer.passhostheader": "true",
      "traefik.http.services.shop.loadbalancer.healthcheck.path": "/health",
      "traefik.http.services.shop.loadbalancer.healthcheck.interval": "500ms",
      "traefik.http.services.shop.loadbalancer.healthcheck.timeout": "450ms", // the default 1 s is not below the 500 ms interval
      "traefik.http.services.shop.loadbalancer.healthcheck.status": "200",
      "traefik.http.services.shop.loadbalancer.sticky.cookie": "true",
      "traefik.http.services.shop.loadbalancer.sticky.cookie.name": "SID",
      "traefik.http.services.shop.loadbalancer.sticky.cookie.httponly": "true",
      "traefik.http.services.shop.loadbalancer.sticky.cookie.secure": "false",
      "traefik.http.services.shop.loadbalancer.sticky.cookie.samesite": "lax",
      "traefik.http.services.shop.loadbalancer.sticky.cookie.maxage": "60",
    });
  });

  it("takes the container's port when given and omits it when unknown", () => {
    expect(renderTraefikDockerLabels(svc({}, [srv("a", 9001)]), { port: 8080 })["traefik.http.services.web.loadbalancer.server.port"]).toBe("8080");
    expect(renderTraefikDockerLabels(svc({}, []))).not.toHaveProperty("traefik.http.services.web.loadbalancer.server.port");
  });
});

describe("Traefik (export only: a renderer, no running engine)", () => {
  it("renders but cannot be run, with the reason", () => {
    expect(traefikRenderer.render(goldenCases[0].config)).toBe(renderTraefik(goldenCases[0].config));
    // nothing to check, apply, change at run time, read stats from or supervise: Traefik has no RunningEngine
    for (const method of ["check", "apply", "liveConfig", "addServer", "removeServer", "setServerState", "setWeight", "stats", "start", "stop", "status"]) {
      expect(traefikRenderer).not.toHaveProperty(method);
    }
    expect(engineDescriptors.traefik.runs).toEqual(expect.stringContaining("Traefik is export-only here"));
    expect(engineDescriptors.traefik.capabilities).toBe(traefikCapabilities);
  });

  it("declares honestly what the export cannot express", () => {
    expect(traefikCapabilities["algorithm.round_robin"]).toBe(true);
    for (const k of ["algorithm.least_conn", "algorithm.random_two", "algorithm.source_hash", "algorithm.uri_hash", "sticky.source", "passive", "drain", "slowStart"] as const) {
      expect(typeof traefikCapabilities[k]).toBe("string");
    }
    expect(traefikCapabilities.drain).toMatch(/^Traefik has no drain/);
    expect(traefikCapabilities["sticky.cookie"]).toBe(true);
  });
});

describe.skipIf(!hasSchema)("the exported documents against the Traefik v3 file-provider schema (SchemaStore)", () => {
  const schema = hasSchema ? (JSON.parse(readFileSync(schemaPath, "utf8")) as { $schema: string }) : { $schema: "" };
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = hasSchema ? ajv.compile(schema) : null;
  const errors = (doc: unknown): string => (validate === null || validate(doc) ? "" : ajv.errorsText(validate.errors, { separator: "\n" }));

  it("is draft-07 and rejects what it should", () => {
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    // a server needs a url; a loadBalancer has no `strategy` in this schema; routers need rule and service
    expect(errors({ http: { services: { a: { loadBalancer: { servers: [{ weight: 1 }] } } } } })).not.toBe("");
    expect(errors({ http: { services: { a: { loadBalancer: { strategy: "p2c", servers: [{ url: "http://x" }] } } } } })).not.toBe("");
    expect(errors({ http: { routers: { a: { rule: "Path(`/`)" } } } })).not.toBe("");
  });

  it("accepts every document the tests above exported", () => {
    expect(exportedDocs.length).toBeGreaterThanOrEqual(goldenCases.length + 2);
    const failures = exportedDocs.map(({ name, doc }) => ({ name, errors: errors(doc) })).filter((f) => f.errors !== "");
    expect(failures).toEqual([]);
  });
});
