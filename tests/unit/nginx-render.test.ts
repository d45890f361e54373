import path from "node:path";
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/core/errors";
import { defaultRules, rulesSchema, type RulesInput } from "@/lib/core/rules";
import type { BalancerConfig, BalancerServer } from "@/lib/engines/types";
import { nginxPaths, renderNginx, type NginxRenderOptions } from "@/lib/engines/nginx/render";
import { nginxCapabilities } from "@/lib/engines/nginx/capabilities";
import { GOLDEN_DATA_DIR, goldenCases, server as srv } from "../fixtures/nginx/balancer-configs";
import { expectGolden } from "../helpers/golden";

const fixtures = path.resolve(__dirname, "../fixtures/nginx");
// Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/nginx-render.test.ts

const opts = (down: string[] = []): NginxRenderOptions => ({ paths: nginxPaths(GOLDEN_DATA_DIR), downServers: new Set(down) });

describe("renderNginx golden files", () => {
  for (const c of goldenCases) {
    it(`renders ${c.name}.conf (${c.description})`, () => {
      const file = path.join(fixtures, `${c.name}.conf`);
      const rendered = renderNginx(c.config, opts(c.down));
      expectGolden(file, rendered);
    });
  }
});


const one = (rules: RulesInput = {}, servers: BalancerServer[] = [srv("a", 9000)], name = "web"): BalancerConfig => ({
  listen: { host: "127.0.0.1", port: 8080 },
  services: [{ id: "s1", name, rules: rulesSchema.parse(rules), servers }],
});

/** The lines of the block that starts with `head` (up to its closing brace at the same indent). */
function block(text: string, head: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === `${head} {`);
  if (start < 0) throw new Error(`no block ${head}`);
  const indent = lines[start].length - lines[start].trimStart().length;
  const end = lines.findIndex((l, i) => i > start && l.trim() === "}" && l.length - l.trimStart().length === indent);
  return lines.slice(start + 1, end).map((l) => l.trim());
}

describe("renderNginx shape", () => {
  it("keeps every path nginx writes under the data folder", () => {
    const text = renderNginx(one(), opts());
    const paths = [...text.matchAll(/"(\/[^"]*)"/g)].map((m) => m[1]);
    expect(paths.length).toBe(8); // pid, error_log, access_log, five temp paths
    for (const p of paths) expect(p.startsWith(`${GOLDEN_DATA_DIR}/nginx/`)).toBe(true);
  });

  it("maps each algorithm to its nginx method", () => {
    const method = (algorithm: RulesInput["algorithm"]) => block(renderNginx(one({ algorithm }), opts()), "upstream up_web")[1];
    expect(method("round_robin")).toBe("# weighted round robin (nginx default)");
    expect(method("least_conn")).toBe("least_conn;");
    expect(method("random_two")).toBe("random two least_conn;");
    expect(method("uri_hash")).toBe("hash $request_uri consistent;");
    // not ip_hash: it would send all of 127.0.0.x (one /24) to one replica
    expect(block(renderNginx(one({ algorithm: "source_hash" }), opts()), "upstream up_web")).toContain("hash $remote_addr consistent;");
    expect(block(renderNginx(one({ sticky: { mode: "source" } }), opts()), "upstream up_web")).toContain("hash $remote_addr consistent;");
  });

  it("puts keepalive after the balancing method", () => {
    const up = block(renderNginx(one({ algorithm: "least_conn" }), opts()), "upstream up_web");
    expect(up.indexOf("least_conn;")).toBeLessThan(up.indexOf("keepalive 32;"));
  });

  it("renders maint, drain, weight 0 and probe-down servers as down, and passive checks in whole seconds", () => {
    const text = renderNginx(
      one({ passive: { maxFails: 4, failTimeoutMs: 1500 } }, [
        srv("a", 9001),
        srv("b", 9002, { adminState: "drain" }),
        srv("c", 9003, { adminState: "maint" }),
        srv("d", 9004, { weight: 0 }),
        srv("e", 9005, { weight: 7 }),
      ]),
      opts(["127.0.0.1:9005"]),
    );
    const servers = block(text, "upstream up_web").filter((l) => l.startsWith("server "));
    expect(servers[0]).toMatch(/^server 127\.0\.0\.1:9001 weight=1 max_fails=4 fail_timeout=2s; # r-a \(a\)$/);
    expect(servers[1]).toMatch(/^server 127\.0\.0\.1:9002 weight=1 .* down; # r-b \(b\): drain/);
    expect(servers[2]).toMatch(/ down; # r-c \(c\): maint$/);
    expect(servers[3]).toMatch(/ down; # r-d \(d\): weight 0$/);
    expect(servers[4]).toMatch(/^server 127\.0\.0\.1:9005 weight=7 .* down; # r-e \(e\): panel probe: failing$/);
  });

  it("maps retries to proxy_next_upstream with tries = count + 1, or turns them off", () => {
    const loc = block(renderNginx(one({ retries: { count: 2, on: ["conn_failure", "empty_response", "status_502", "status_504"] }, timeouts: { serverMs: 7000 } }), opts()), "location /");
    expect(loc).toContain("proxy_next_upstream error invalid_header http_502 http_504;");
    expect(loc).toContain("proxy_next_upstream_tries 3;");
    expect(loc).toContain("proxy_next_upstream_timeout 7000ms;");
    expect(block(renderNginx(one({ retries: { count: 0 } }), opts()), "location /")).toContain("proxy_next_upstream off;");
    expect(block(renderNginx(one({ retries: { count: 2, on: [] } }), opts()), "location /")).toContain("proxy_next_upstream off;");
  });

  it("renders timeouts in ms", () => {
    const loc = block(renderNginx(one({ timeouts: { connectMs: 750, serverMs: 12_000, clientMs: 9000 } }), opts()), "location /");
    expect(loc).toEqual(
      expect.arrayContaining(["proxy_connect_timeout 750ms;", "proxy_read_timeout 12000ms;", "proxy_send_timeout 12000ms;", "send_timeout 9000ms;", "client_body_timeout 9000ms;"]),
    );
  });

  it("strips a prefix with a URI part on proxy_pass and matches whole segments", () => {
    const text = renderNginx(one({ route: { pathPrefix: "/api/", stripPrefix: true } }), opts());
    expect(block(text, "location = /api")).toContain("proxy_pass http://up_web/;");
    expect(block(text, "location /api/")).toContain("proxy_pass http://up_web/;");
    // no route for "/": the rest of the host gets 503
    expect(block(text, "location /")).toEqual(['return 503 "no route for this host and path\\n";']);
    const kept = renderNginx(one({ route: { pathPrefix: "/api" } }), opts());
    expect(block(kept, "location /api/")).toContain("proxy_pass http://up_web;");
  });

  it("points a longer location at a shorter route with a higher priority, stripping that route's prefix", () => {
    const config: BalancerConfig = {
      listen: { host: "127.0.0.1", port: 8080 },
      services: [
        { id: "1", name: "v1", rules: rulesSchema.parse({ route: { pathPrefix: "/v1", stripPrefix: true, priority: 900 } }), servers: [srv("a", 9001)] },
        { id: "2", name: "beta", rules: rulesSchema.parse({ route: { pathPrefix: "/v1/beta" } }), servers: [srv("b", 9002)] },
      ],
    };
    const text = renderNginx(config, opts());
    expect(block(text, "location /v1/beta/")).toContain("proxy_pass http://up_v1/beta/;");
    expect(block(text, "location = /v1/beta")).toContain("proxy_pass http://up_v1/beta;");
    // without the priority the longer route wins, as nginx would pick anyway
    config.services[0].rules = rulesSchema.parse({ route: { pathPrefix: "/v1", stripPrefix: true } });
    expect(block(renderNginx(config, opts()), "location /v1/beta/")).toContain("proxy_pass http://up_beta;");
  });

  it("serves any-host routes in named-host blocks unless the host has its own route for the prefix", () => {
    const config: BalancerConfig = {
      listen: { host: "127.0.0.1", port: 8080 },
      services: [
        { id: "1", name: "site", rules: rulesSchema.parse({}), servers: [srv("a", 9001)] },
        { id: "2", name: "api", rules: rulesSchema.parse({ route: { host: "api.local", pathPrefix: "/api" } }), servers: [srv("b", 9002)] },
      ],
    };
    const text = renderNginx(config, opts());
    const named = text.slice(text.indexOf("server_name api.local;"));
    expect(named).toContain("location / {\n            # -> site");
    expect(named).toContain("location /api/ {\n            # -> api");
    const anyHost = text.slice(text.indexOf("server_name _;"), text.indexOf("server_name api.local;"));
    expect(anyHost).not.toContain("up_api");
  });

  it("sets an opaque sticky cookie when the client has none and hashes on it", () => {
    const text = renderNginx(one({ sticky: { mode: "cookie", cookieName: "my-sess", maxAgeS: 60 }, route: { pathPrefix: "/app" } }), opts());
    expect(block(text, "upstream up_web")).toContain("hash $sy_key_web consistent;");
    expect(block(text, "map $http_cookie $sy_ck_web")).toEqual(['"~(?:^|;)\\s*my-sess=([^;\\s]+)" $1;', 'default "";']);
    expect(block(text, "map $sy_ck_web $sy_key_web")).toEqual(['"" $request_id;', "default $sy_ck_web;"]);
    expect(block(text, "map $sy_ck_web $sy_setck_web")).toEqual(['"" "my-sess=$request_id; Path=/app; HttpOnly; SameSite=Lax; Max-Age=60";', 'default "";']);
    expect(block(text, "location /app/")).toContain("add_header Set-Cookie $sy_setck_web;");
  });

  it("answers 503 for a service without replicas and renders no empty upstream", () => {
    const text = renderNginx(one({}, []), opts());
    expect(text).not.toContain("upstream up_web");
    expect(block(text, "location /")).toContain('return 503 "service web has no replicas\\n";');
  });

  it("uses upstream names without '-' in variables (service names are DNS labels)", () => {
    const text = renderNginx(one({ sticky: { mode: "cookie" } }, [srv("a", 9001)], "my-shop"), opts());
    expect(text).toContain("upstream up_my_shop {");
    expect(text).toContain("hash $sy_key_my_shop consistent;");
  });

  it("renders the workers' user only when asked", () => {
    expect(renderNginx(one(), opts())).not.toMatch(/^user /m);
    expect(renderNginx(one(), { ...opts(), workerUser: "root" })).toMatch(/^user root;$/m);
  });

  it("writes one access record per request, buffered per worker and escaped, to the log the panel reads", () => {
    const text = renderNginx(one(), opts());
    // buffer=: one write() per 64k of records instead of one per request; flush=1s: a record is in the file at most 1 s after its request
    expect(text).toContain(`access_log "${GOLDEN_DATA_DIR}/nginx/logs/access.log" sy_upstream buffer=64k flush=1s;`);
    // default escaping: no control character (no newline) of a client's Host reaches the file
    expect(text).toContain("log_format sy_upstream 'sy2|$proxy_host|$upstream_addr|$upstream_status|$upstream_response_time|$request_time|$status|$upstream_bytes_sent|$upstream_bytes_received|$host';");
    expect(text).not.toContain("syslog");
  });

  it("is deterministic", () => {
    for (const c of goldenCases) expect(renderNginx(c.config, opts(c.down))).toBe(renderNginx(structuredClone(c.config), opts(c.down)));
  });
});

describe("renderNginx refuses what the patterns do not allow", () => {
  const bad = (mutate: (c: BalancerConfig) => void, o: NginxRenderOptions = opts()) => {
    const c = one({ sticky: { mode: "cookie" } });
    mutate(c);
    return () => renderNginx(c, o);
  };
  const cases: Array<[string, (c: BalancerConfig) => void]> = [
    ["service name", (c) => (c.services[0].name = "web;evil")],
    ["upper-case service name", (c) => (c.services[0].name = "Web")],
    ["route host", (c) => (c.services[0].rules.routes[0].hosts = ["a.local; return 200"])],
    ["route wildcard", (c) => (c.services[0].rules.routes[0].hosts = ["*.a.local; return 200"])],
    ["path prefix", (c) => (c.services[0].rules.routes[0].path = "/a b")],
    ["path prefix with a quote", (c) => (c.services[0].rules.routes[0].path = '/a"')],
    ["exact path with a brace", (c) => Object.assign(c.services[0].rules.routes[0], { path: "/a{", match: "exact" })],
    ["cookie name", (c) => (c.services[0].rules.sticky.cookieName = "x=1;")],
    ["server name", (c) => (c.services[0].servers[0].name = "r a")],
    ["server host", (c) => (c.services[0].servers[0].host = "127.0.0.1:80 backup")],
    ["server port", (c) => (c.services[0].servers[0].port = 70000)],
    ["weight", (c) => (c.services[0].servers[0].weight = 1.5)],
    ["listen host", (c) => (c.listen.host = "127.0.0.1 ssl")],
    ["listen port", (c) => (c.listen.port = 0)],
    ["duplicate service", (c) => c.services.push({ ...c.services[0] })],
    ["duplicate server", (c) => c.services[0].servers.push({ ...c.services[0].servers[0] })],
  ];
  for (const [what, mutate] of cases) {
    it(`throws on a bad ${what}`, () => {
      expect(bad(mutate)).toThrow(AppError);
    });
  }
  it("throws on a data folder path nginx would misread", () => {
    expect(() => renderNginx(one(), { ...opts(), paths: nginxPaths("/tmp/a;b") })).toThrow(/absolute path/);
    expect(() => renderNginx(one(), { ...opts(), workerUser: "root; daemon off" })).toThrow(/worker user/);
  });
});

describe("nginx capabilities", () => {
  it("names a reason for every capability nginx OSS lacks", () => {
    expect(nginxCapabilities.slowStart).toMatch(/nginx Plus/);
    expect(nginxCapabilities.dynamicServers).toMatch(/reload/);
    expect(nginxCapabilities.hitlessReload).toMatch(/19-44/);
    expect(nginxCapabilities["healthCheck.active"]).toBe(true);
    expect(nginxCapabilities.drain).toBe(true);
  });

  it("renders the default rules", () => {
    expect(() => renderNginx({ listen: { host: "127.0.0.1", port: 1 }, services: [{ id: "x", name: "x", rules: defaultRules(), servers: [] }] }, opts())).not.toThrow();
  });
});
