import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/core/errors";
import { rulesSchema } from "@/lib/core/rules";
import { ALL_CAPABILITIES, assertSupported, capabilitiesExcept, requiredCapabilities, unsupportedOptions } from "@/lib/engines/capabilities";
import { haproxyCapabilities } from "@/lib/engines/haproxy";
import type { EngineCapabilities } from "@/lib/engines/types";

const limited: EngineCapabilities = {
  ...haproxyCapabilities,
  "algorithm.random_two": "no random balancing in this engine",
  "sticky.cookie": "cookies need the commercial edition",
  "healthCheck.active": "the panel probes instead",
};

describe("capability checks", () => {
  it("lists what a rule set needs", () => {
    const rules = rulesSchema.parse({
      algorithm: "least_conn",
      sticky: { mode: "cookie" },
      slowStartMs: 1000,
      route: { host: "a.local", pathPrefix: "/api", stripPrefix: true },
    });
    expect(requiredCapabilities(rules).map((r) => r.capability)).toEqual([
      "algorithm.least_conn",
      "sticky.cookie",
      "passive",
      "retries",
      "retries.redispatch",
      "slowStart",
      "route.host",
      "route.stripPrefix",
    ]);
  });

  it("does not ask for what is switched off", () => {
    const rules = rulesSchema.parse({ passive: { maxFails: 0 }, retries: { count: 0 }, route: { stripPrefix: true } });
    expect(requiredCapabilities(rules).map((r) => r.capability)).toEqual(["algorithm.round_robin"]);
  });

  it("HAProxy supports every option", () => {
    for (const algorithm of ["round_robin", "least_conn", "random_two", "source_hash", "uri_hash"] as const) {
      for (const mode of ["none", "cookie", "source"] as const) {
        const rules = rulesSchema.parse({ algorithm, sticky: { mode }, slowStartMs: 10, route: { host: "x.local", pathPrefix: "/a", stripPrefix: true } });
        expect(() => assertSupported({ kind: "haproxy", capabilities: haproxyCapabilities }, rules)).not.toThrow();
      }
    }
  });

  it("names every unsupported option with the engine's reason", () => {
    const rules = rulesSchema.parse({ algorithm: "random_two", sticky: { mode: "cookie" } });
    expect(unsupportedOptions(limited, rules).map((u) => u.capability)).toEqual(["algorithm.random_two", "sticky.cookie"]);
    let caught: unknown;
    try {
      assertSupported({ kind: "nginx", capabilities: limited }, rules);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe("unsupported");
    expect((caught as AppError).message).toBe(
      "nginx cannot do algorithm random_two: no random balancing in this engine; nginx cannot do cookie stickiness: cookies need the commercial edition",
    );
  });

  it("never requires active health checks (the panel's prober supplies them)", () => {
    expect(() => assertSupported({ kind: "nginx", capabilities: limited }, rulesSchema.parse({}))).not.toThrow();
  });
});

describe("capabilitiesExcept", () => {
  it("marks everything supported but the named gaps", () => {
    const caps = capabilitiesExcept({ "sticky.cookie": "no cookies" });
    expect(caps["sticky.cookie"]).toBe("no cookies");
    expect(Object.values(caps).filter((v) => v === true)).toHaveLength(ALL_CAPABILITIES.length - 1);
  });
});
