import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBuiltinConfig } from "@/lib/engines/builtin/config-schema";
import { renderBuiltinConfig } from "@/lib/engines/builtin/render";
import type { BalancerConfig, BalancerServer } from "@/lib/engines/types";
import { emptyConfig, twoServices } from "@/tests/fixtures/builtin/configs";

const fixture = (name: string) => readFileSync(path.join(__dirname, "..", "fixtures", "builtin", name), "utf8");

describe("renderBuiltinConfig", () => {
  it("matches the golden file", () => {
    expect(renderBuiltinConfig(twoServices)).toBe(fixture("two-services.json"));
  });

  it("renders an empty config", () => {
    expect(renderBuiltinConfig(emptyConfig)).toBe(fixture("empty.json"));
  });

  it("does not depend on the order services, servers or keys came in", () => {
    const shuffled: BalancerConfig = {
      services: [...twoServices.services].reverse().map((s) => ({
        servers: [...s.servers].reverse().map((srv) => Object.fromEntries(Object.entries(srv).reverse()) as BalancerServer),
        rules: Object.fromEntries(Object.entries(s.rules).reverse()) as typeof s.rules,
        name: s.name,
        id: s.id,
      })),
      listen: { port: 18082, host: "127.0.0.1" },
    };
    expect(renderBuiltinConfig(shuffled)).toBe(renderBuiltinConfig(twoServices));
  });

  it("writes retries.on in the schema's order", () => {
    const web = twoServices.services[0];
    const reordered = { ...web, rules: { ...web.rules, retries: { ...web.rules.retries, on: [...web.rules.retries.on].reverse() } } };
    expect(renderBuiltinConfig({ ...twoServices, services: [reordered, twoServices.services[1]] })).toBe(renderBuiltinConfig(twoServices));
  });

  it("round-trips through the proxy's parser", () => {
    const parsed = parseBuiltinConfig(renderBuiltinConfig(twoServices));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(renderBuiltinConfig(parsed.config)).toBe(renderBuiltinConfig(twoServices));
    expect(parsed.config.services.find((s) => s.name === "web")?.servers.map((s) => s.name)).toEqual(["r-weba", "r-webb"]);
  });

  it("is pure: the input is not changed", () => {
    const before = JSON.stringify(twoServices);
    renderBuiltinConfig(twoServices);
    expect(JSON.stringify(twoServices)).toBe(before);
  });
});
