import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultRules, rulesSchema } from "@/lib/core/rules";
import type { BalancerConfig, BalancerService } from "@/lib/engines/types";
import { dynamicCookieKey, renderHaproxy, retryOnValue, serverKeywords, serviceNameOfBackend } from "@/lib/engines/haproxy/render";
import { goldenConfigs, goldenRenderOptions } from "../fixtures/haproxy/configs";
import { expectGolden } from "../helpers/golden";

const fixtures = path.resolve(__dirname, "../fixtures/haproxy");
// Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/haproxy-render.test.ts

describe("renderHaproxy golden files", () => {
  for (const [name, config] of Object.entries(goldenConfigs)) {
    it(`renders ${name}.cfg`, () => {
      const file = path.join(fixtures, `${name}.cfg`);
      const rendered = renderHaproxy(config, goldenRenderOptions);
      expectGolden(file, rendered);
    });
  }
});

const oneService = (patch: Partial<BalancerService> = {}): BalancerConfig => ({
  listen: { host: "127.0.0.1", port: 8080 },
  services: [
    {
      id: "svc1",
      name: "web",
      rules: defaultRules(),
      servers: [{ replicaId: "a", name: "r-a", host: "127.0.0.1", port: 9000, weight: 1, adminState: "ready" }],
      ...patch,
    },
  ],
});

describe("renderHaproxy shape", () => {
  it("puts the check parameters on every server line", () => {
    const text = renderHaproxy(goldenConfigs.defaults, goldenRenderOptions);
    const servers = text.split("\n").filter((l) => l.trim().startsWith("server "));
    expect(servers).toHaveLength(3);
    for (const line of servers) expect(line).toMatch(/ check inter 500ms fall 2 rise 2/);
  });

  it("renders drain as weight 0 and maint as disabled", () => {
    const text = renderHaproxy(goldenConfigs["drain-maint-weights"], goldenRenderOptions);
    expect(text).toContain("server r-w2 127.0.0.1:9502 weight 0 check");
    expect(text).toMatch(/server r-w3 127\.0\.0\.1:9503 weight 5 check .* disabled\n/);
  });

  it("lists use_backend in lib/core's route order: a high explicit priority, then the longer rule", () => {
    const mk = (name: string, route: object): BalancerService => ({ ...oneService().services[0], id: name, name, rules: rulesSchema.parse({ route }) });
    const text = renderHaproxy(
      {
        listen: { host: "127.0.0.1", port: 8080 },
        services: [mk("root", {}), mk("api", { pathPrefix: "/api" }), mk("apiv1", { pathPrefix: "/api/v1" }), mk("hosted", { pathPrefix: "/api", host: "x.local" }), mk("urgent", { priority: 500 })],
      },
      goldenRenderOptions,
    );
    const uses = text.split("\n").filter((l) => l.trim().startsWith("use_backend")).map((l) => l.trim().split(" ")[1]);
    // x.local/api/v1 reaches "hosted" (its use_backend comes before apiv1's), as on every engine
    expect(uses).toEqual(["be_urgent", "be_hosted", "be_apiv1", "be_api", "be_root"]);
  });

  it("matches a prefix written with a trailing slash on whole segments, like one without", () => {
    const text = renderHaproxy(oneService({ rules: rulesSchema.parse({ route: { pathPrefix: "/api/", stripPrefix: true } }) }), goldenRenderOptions);
    expect(text).toContain("acl r1_path path /api\n");
    expect(text).toContain("acl r1_path path_beg /api/\n");
    expect(text).toContain("http-request replace-path '^/api/?(.*)$' '/\\1' if { var(txn.route) -m str r1 }");
  });

  it("maps retry conditions and an empty list", () => {
    expect(retryOnValue(["conn_failure", "empty_response", "response_timeout", "status_502", "status_503", "status_504"])).toBe(
      "conn-failure empty-response response-timeout 502 503 504",
    );
    expect(retryOnValue([])).toBe("none");
  });

  it("derives a per-service dynamic cookie key that reveals nothing of the id", () => {
    const k1 = dynamicCookieKey("svc1", "s");
    expect(k1).toMatch(/^[0-9a-f]{32}$/);
    expect(dynamicCookieKey("svc2", "s")).not.toBe(k1);
    expect(dynamicCookieKey("svc1", "t")).not.toBe(k1);
  });

  it("gives runtime add-server keywords the real weight and no disabled flag", () => {
    const rules = defaultRules();
    const srv = { replicaId: "a", name: "r-a", host: "127.0.0.1", port: 9000, weight: 7, adminState: "drain" as const };
    expect(serverKeywords(rules, srv, { forConfigFile: false })).toEqual([
      "weight 7",
      "check",
      "inter 500ms",
      "fall 2",
      "rise 2",
      "observe layer7 error-limit 3 on-error mark-down",
    ]);
  });

  it("knows which proxies are service backends", () => {
    expect(serviceNameOfBackend("be_web")).toBe("web");
    expect(serviceNameOfBackend("noroute")).toBeNull();
    expect(serviceNameOfBackend("fe_main")).toBeNull();
  });
});

describe("renderHaproxy refuses what the model should have refused", () => {
  const bad: Array<[string, BalancerConfig]> = [
    ["server host with a space", oneService({ servers: [{ replicaId: "a", name: "r-a", host: "127.0.0.1 backup", port: 9000, weight: 1, adminState: "ready" }] })],
    ["server name with a newline", oneService({ servers: [{ replicaId: "a", name: "r-a\nbind :1", host: "127.0.0.1", port: 9000, weight: 1, adminState: "ready" }] })],
    ["port out of range", oneService({ servers: [{ replicaId: "a", name: "r-a", host: "127.0.0.1", port: 70000, weight: 1, adminState: "ready" }] })],
    ["weight out of range", oneService({ servers: [{ replicaId: "a", name: "r-a", host: "127.0.0.1", port: 9000, weight: 257, adminState: "ready" }] })],
    ["service name with an underscore", oneService({ name: "we_b" })],
    ["health path with a space", oneService({ rules: { ...defaultRules(), healthCheck: { ...defaultRules().healthCheck, path: "/h x" } } })],
    ["route host with a brace", oneService({ rules: { ...defaultRules(), routes: [{ ...defaultRules().routes[0], hosts: ["a}.local"] }] } })],
    ["route wildcard with a brace", oneService({ rules: { ...defaultRules(), routes: [{ ...defaultRules().routes[0], hosts: ["*.a}.local"] }] } })],
    ["route path with a space", oneService({ rules: { ...defaultRules(), routes: [{ ...defaultRules().routes[0], path: "/a b", match: "exact" }] } })],
    ["cookie name with a space", oneService({ rules: { ...defaultRules(), sticky: { mode: "cookie", cookieName: "A B", maxAgeS: 0 } } })],
    [
      "duplicate server names",
      oneService({
        servers: [
          { replicaId: "a", name: "r-a", host: "127.0.0.1", port: 9000, weight: 1, adminState: "ready" },
          { replicaId: "b", name: "r-a", host: "127.0.0.1", port: 9001, weight: 1, adminState: "ready" },
        ],
      }),
    ],
  ];
  for (const [what, config] of bad) {
    it(`throws on ${what}`, () => {
      expect(() => renderHaproxy(config, goldenRenderOptions)).toThrow(/refusing to render/);
    });
  }

  it("drops the workers to runAs's ids (global uid/gid) only when asked, and validates them", () => {
    expect(renderHaproxy(oneService(), goldenRenderOptions)).not.toMatch(/^\s+(uid|gid) /m);
    const text = renderHaproxy(oneService(), { ...goldenRenderOptions, runAs: { uid: 995, gid: 994 } });
    const global = text.slice(text.indexOf("\nglobal\n"), text.indexOf("\ndefaults"));
    expect(global).toContain("\n    uid 995\n    gid 994\n");
    expect(() => renderHaproxy(oneService(), { ...goldenRenderOptions, runAs: { uid: 0, gid: 994 } })).toThrow(/uid/);
  });

  it("throws on a relative socket path", () => {
    expect(() => renderHaproxy(oneService(), { ...goldenRenderOptions, runtimeSocket: "admin.sock" })).toThrow(/runtime socket/);
  });
});
