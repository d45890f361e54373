import { describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { createServiceSchema } from "@/lib/core/service";
import { trafficSettingsSchema } from "@/lib/core/metrics";

/**
 * Every string that can reach an engine config file (or a command line) is
 * refused by the schema when it carries config syntax, control characters,
 * unicode look-alikes or absurd lengths. The renderers also re-check patterns,
 * but nothing hostile should ever get that far.
 */
const hostile = [
  "a\nb",
  "a\rb",
  "a;b",
  "a{b",
  "a}b",
  "a#b",
  'a"b',
  "a'b",
  "a\\b",
  "a b",
  "a\tb",
  "a\u0000b",
  "ａｐｉ", // full-width letters
  "bücher",
  "a\u202eb", // right-to-left override
  "$(reboot)",
  "`id`",
  "%[src]",
  "x".repeat(5000),
];

const setIn = (obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path;
  return { ...obj, [head]: rest.length ? setIn((obj[head] as Record<string, unknown>) ?? {}, rest, value) : value };
};

describe("hostile strings are refused before any rendering", () => {
  const ruleFields = [
    ["route", "host"],
    ["route", "pathPrefix"],
    ["healthCheck", "path"],
    ["sticky", "cookieName"],
  ];
  for (const field of ruleFields) {
    it(`rules.${field.join(".")}`, () => {
      for (const value of hostile) {
        const candidate = field[0] === "route" && field[1] === "pathPrefix" ? `/${value}` : field[1] === "path" ? `/${value}` : value;
        const result = rulesSchema.safeParse(setIn({}, field, candidate));
        expect(result.success, `${field.join(".")} accepted ${JSON.stringify(candidate).slice(0, 40)}`).toBe(false);
      }
    });
  }

  it("rejects unknown rule fields (a typo never silently does nothing)", () => {
    expect(rulesSchema.safeParse({ algorithm: "round_robin", extra: "x" }).success).toBe(false);
  });

  it("service name, image and environment", () => {
    const base = { name: "web" };
    for (const value of hostile) {
      expect(createServiceSchema.safeParse({ ...base, name: value }).success).toBe(false);
      expect(createServiceSchema.safeParse({ ...base, image: value }).success).toBe(false);
      expect(createServiceSchema.safeParse({ ...base, env: { [value]: "x" } }).success).toBe(false);
    }
    expect(createServiceSchema.safeParse({ ...base, env: { OK: "a\nb" } }).success).toBe(false);
    expect(createServiceSchema.safeParse({ ...base, env: { PORT: "1" } }).success).toBe(false);
  });

  it("traffic generator path", () => {
    for (const value of hostile) expect(trafficSettingsSchema.safeParse({ path: `/${value}` }).success).toBe(false);
  });

  it("accepts the ordinary values", () => {
    expect(rulesSchema.safeParse({ route: { host: "tictactoe.local", pathPrefix: "/api/v1", stripPrefix: true }, healthCheck: { path: "/healthz" }, sticky: { mode: "cookie", cookieName: "SRV_ID" } }).success).toBe(true);
    expect(createServiceSchema.safeParse({ name: "web-2", image: "switchyard/replica:latest", env: { GREETING: "hello world; {ok}" } }).success).toBe(true);
  });
});
