import { describe, expect, it } from "vitest";
import { defaultRules, type Rules } from "@/lib/core/rules";
import { describeServerChanges, rollbackSummary, rulesText, serverChanges, snapshotServices } from "@/lib/core/revision-changes";
import { nextTickMs, relativeTime } from "@/components/balancer/when";

const rules = (patch: Partial<Rules> = {}): Rules => ({ ...defaultRules(), ...patch });
const snapshot = (services: { id: string; name: string; rules: Rules; servers: string[] }[]) =>
  JSON.stringify({ listen: { host: "127.0.0.1", port: 8080 }, services: services.map((s) => ({ ...s, servers: s.servers.map((name) => ({ name, host: "127.0.0.1", port: 1, weight: 1, adminState: "ready" })) })) });

describe("what a revision changed, apart from scaling (issue 12, item 12)", () => {
  const before = snapshotServices(snapshot([{ id: "s1", name: "web", rules: rules(), servers: ["web-1", "web-2", "web-3"] }]));
  const scaledOnly = snapshotServices(snapshot([{ id: "s1", name: "web", rules: rules(), servers: ["web-1", "web-3", "web-4", "web-5", "web-6"] }]));
  const rulesChanged = snapshotServices(snapshot([{ id: "s1", name: "web", rules: rules({ algorithm: "least_conn" }), servers: ["web-1", "web-3", "web-4", "web-5", "web-6"] }]));

  it("renders the rules without servers: scaling alone is no rules change", () => {
    expect(rulesText(scaledOnly)).toBe(rulesText(before));
    expect(rulesText(before)).not.toContain("web-1");
    expect(rulesText(rulesChanged)).not.toBe(rulesText(before));
    expect(rulesText(rulesChanged)).toContain('"algorithm": "least_conn"');
  });

  it("lists the servers scaling added and removed between two revisions", () => {
    const changes = serverChanges(before, rulesChanged);
    expect(changes).toEqual([{ service: "web", added: ["web-4", "web-5", "web-6"], removed: ["web-2"] }]);
    expect(describeServerChanges(changes)).toBe("web: +web-4 +web-5 +web-6 −web-2");
    expect(serverChanges(before, before)).toEqual([]);
  });

  it("does not call the servers of a new service scaling", () => {
    const withNew = snapshotServices(
      snapshot([
        { id: "s1", name: "web", rules: rules(), servers: ["web-1", "web-2", "web-3"] },
        { id: "s2", name: "api", rules: rules(), servers: ["api-1"] },
      ]),
    );
    expect(serverChanges(before, withNew)).toEqual([]);
    expect(rulesText(withNew)).toContain("# service api");
  });

  it("renders equal rules the same whatever the key order", () => {
    const a = snapshotServices(JSON.stringify({ services: [{ id: "s", name: "x", rules: { a: 1, b: { c: 2, d: 3 } }, servers: [] }] }));
    const b = snapshotServices(JSON.stringify({ services: [{ id: "s", name: "x", rules: { b: { d: 3, c: 2 }, a: 1 }, servers: [] }] }));
    expect(rulesText(a)).toBe(rulesText(b));
  });

  it("reads an unreadable snapshot as empty, never throws", () => {
    expect(snapshotServices("{not json")).toEqual([]);
    expect(snapshotServices(null)).toEqual([]);
    expect(snapshotServices(JSON.stringify({ services: "nope" }))).toEqual([]);
  });

  it("says what a rollback changes back, per service", () => {
    const now = [
      { name: "web", rules: rules({ algorithm: "uri_hash" }) },
      { name: "api", rules: rules() },
    ];
    expect(rollbackSummary(4, now, [{ name: "web", rules: rules() }, { name: "api", rules: rules() }])).toBe("rollback to revision 4: web: algorithm uri_hash → round_robin");
    expect(rollbackSummary(4, now, [{ name: "web", rules: rules({ algorithm: "uri_hash" }) }])).toBe("rollback to revision 4: no rule changes (the same rules as now)");
  });
});

describe("relative times keep ticking", () => {
  const at = "2026-11-29T02:00:00.000Z";
  const t = Date.parse(at);
  it("counts seconds, then minutes, then hours", () => {
    expect(relativeTime(at, t + 2000)).toBe("just now");
    expect(relativeTime(at, t + 12_000)).toBe("12 s ago");
    expect(relativeTime(at, t + 13_000)).toBe("13 s ago");
    expect(relativeTime(at, t + 5 * 60_000)).toBe("5 min ago");
    expect(relativeTime(at, t + 2 * 3600_000)).toBe("2 h ago");
  });
  it("updates every second while the text shows seconds", () => {
    expect(nextTickMs(at, t + 12_000)).toBe(1000);
    expect(nextTickMs(at, t + 5 * 60_000)).toBe(15_000);
  });
});
