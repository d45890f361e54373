import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBuiltinConfig } from "@/lib/engines/builtin/config-schema";
import { renderBuiltinConfig } from "@/lib/engines/builtin/render";
import type { BalancerConfig, BalancerServer } from "@/lib/engines/types";
import { emptyConfig, twoServices } from "@/tests/fixtures/builtin/configs";
import { expectGolden } from "../helpers/golden";

// Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/builtin-render.test.ts
const fixture = (name: string) => path.join(__dirname, "..", "fixtures", "builtin", name);

describe("renderBuiltinConfig", () => {
  it("matches the golden file", () => {
    expectGolden(fixture("two-services.json"), renderBuiltinConfig(twoServices));
  });

  it("renders an empty config", () => {
    expectGolden(fixture("empty.json"), renderBuiltinConfig(emptyConfig));
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
