import { describe, expect, it } from "vitest";
import { parseBuiltinConfig } from "@/lib/engines/builtin/config-schema";
import { controlRequestSchema } from "@/lib/engines/builtin/control";
import { renderBuiltinConfig } from "@/lib/engines/builtin/render";
import { twoServices } from "@/tests/fixtures/builtin/configs";

/** The golden config as a plain object, to break in one place per test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a loose document, broken on purpose field by field
const doc = (): Record<string, any> => JSON.parse(renderBuiltinConfig(twoServices));
const parse = (d: unknown) => parseBuiltinConfig(JSON.stringify(d));
const errorOf = (d: unknown): string => {
  const r = parse(d);
  if (r.ok) throw new Error("expected a refusal");
  return r.error;
};

describe("parseBuiltinConfig", () => {
  it("accepts what render writes", () => {
    expect(parse(doc()).ok).toBe(true);
  });

  it("refuses text that is not JSON, with the parser's reason", () => {
    const r = parseBuiltinConfig("{ not json");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^not JSON/);
  });

  it("refuses another engine's document or format", () => {
    expect(errorOf({ ...doc(), engine: "haproxy" })).toMatch(/engine/);
    expect(errorOf({ ...doc(), format: 2 })).toMatch(/format/);
  });

  it("refuses unknown keys anywhere (strict)", () => {
    const d = doc();
    d.services[0].servers[0].backup = true;
    expect(errorOf(d)).toMatch(/backup/);
    expect(errorOf({ ...doc(), extra: 1 })).toMatch(/extra/);
  });

  it("refuses bad server fields with the path to them", () => {
    const d = doc();
    d.services[1].servers[0].name = "R_1";
    d.services[1].servers[0].port = 70000;
    const e = errorOf(d);
    expect(e).toMatch(/services\[1\]\.servers\[0\]\.name/);
    expect(e).toMatch(/services\[1\]\.servers\[0\]\.port/);
  });

  it("refuses hosts that are neither IPv4 nor host names", () => {
    for (const host of ["127.0.0.256", "a b", "http://x", "-bad.local", ""]) {
      const d = doc();
      d.services[0].servers[0].host = host;
      expect(parse(d).ok, host).toBe(false);
    }
    const d = doc();
    d.services[0].servers[0].host = "web-1.internal";
    expect(parse(d).ok).toBe(true);
  });

  it("refuses replica ids that could break a cookie", () => {
    for (const id of ["a;b", "a b", 'a"', "a,b", ""]) {
      const d = doc();
      d.services[0].servers[0].replicaId = id;
      expect(parse(d).ok, id).toBe(false);
    }
  });

  it("refuses duplicate server names or replicas in a service", () => {
    const d = doc();
    d.services[1].servers.push({ ...d.services[1].servers[0] });
    const e = errorOf(d);
    expect(e).toMatch(/server name r-weba is used twice/);
    expect(e).toMatch(/replica web-a is listed twice/);
  });

  it("refuses duplicate service names and identical routes", () => {
    const d = doc();
    d.services.push({ ...d.services[1], id: "other" });
    const e = errorOf(d);
    expect(e).toMatch(/service name web is used twice/);
    expect(e).toMatch(/same route/);
  });

  it("sees /api and /api/ as the same route", () => {
    const d = doc();
    d.services.push({ ...d.services[0], id: "x", name: "api2" });
    d.services[2].rules.routes[0].path = "/api/";
    expect(errorOf(d)).toMatch(/services api and api2 have the same route/);
  });

  it("validates rules with the shared rules schema", () => {
    const d = doc();
    d.services[0].rules.algorithm = "fastest";
    expect(errorOf(d)).toMatch(/algorithm/);
  });
});

describe("controlRequestSchema", () => {
  it("accepts every command", () => {
    for (const req of [
      { cmd: "ping" },
      { cmd: "version" },
      { cmd: "stats" },
      { cmd: "load", configPath: "/tmp/x/config.json" },
      { cmd: "setState", service: "web", server: "r-web1", state: "drain" },
      { cmd: "setWeight", service: "web", server: "r-web1", weight: 0 },
    ]) {
      expect(controlRequestSchema.safeParse(req).success, req.cmd).toBe(true);
    }
  });

  it("refuses unknown commands, bad names and out-of-range values", () => {
    for (const req of [
      { cmd: "shell", line: "rm -rf /" },
      { cmd: "setState", service: "web", server: "r-web1", state: "down" },
      { cmd: "setWeight", service: "web", server: "r-web1", weight: 257 },
      { cmd: "setWeight", service: "Web!", server: "r-web1", weight: 1 },
      { cmd: "load" },
      { cmd: "ping", extra: true },
    ]) {
      expect(controlRequestSchema.safeParse(req).success, JSON.stringify(req)).toBe(false);
    }
  });
});
