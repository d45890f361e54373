import { describe, expect, it } from "vitest";
import { signalsOf, step, type AlertState, type ServiceFacts } from "@/lib/alerts/evaluate";
import { alertRuleSchema, alertSettingsSchema, type AlertRule } from "@/lib/core/alerts";
import type { ServiceTick } from "@/lib/core/metrics";

const rule = (over: Partial<AlertRule> & Pick<AlertRule, "kind">): AlertRule => alertRuleSchema.parse({ id: "r1", forS: 5, resolveS: 10, ...over });

function tick(replicas: { id: string; down?: boolean; inRotation?: boolean }[], extra: Partial<ServiceTick> = {}): ServiceTick {
  return {
    t: 0,
    serviceId: "s1",
    rps: 100,
    errors: { "4xx": 0, "5xx": 0, conn: 0 },
    latency: { p50: 10, p95: 50, p99: 80 },
    replicas: replicas.map((r) => ({ replicaId: r.id, inRotation: r.inRotation ?? !r.down, health: { status: r.down ? "down" : "up", reason: r.down ? "check failed" : null, lastChangeMs: null } })),
    ...extra,
  } as unknown as ServiceTick;
}

const facts = (ticks: ServiceTick[], over: Partial<ServiceFacts> = {}): ServiceFacts => ({
  id: "s1",
  name: "web",
  replicas: [
    { id: "a", state: "ready" },
    { id: "b", state: "ready" },
  ],
  ticks,
  autoscaler: null,
  ...over,
});

describe("signalsOf: the conditions that hold", () => {
  it("a replica down, per replica; a starting one is not counted", () => {
    const s = signalsOf([rule({ kind: "replica_down" })], [facts([tick([{ id: "a" }, { id: "b", down: true }])])]);
    expect(s).toMatchObject([{ key: "r1/s1/b", replicaId: "b", summary: "replica b of web is down (check failed)" }]);
    const starting = facts([tick([{ id: "a" }, { id: "b", down: true }])], { replicas: [{ id: "a", state: "ready" }, { id: "b", state: "starting" }] });
    expect(signalsOf([rule({ kind: "replica_down" })], [starting])).toEqual([]);
  });

  it("fewer in rotation, error rate over the ticks, p95, the autoscaler at max; a rule for another service does not apply", () => {
    const ticks = [tick([{ id: "a" }, { id: "b", down: true }], { rps: 50, errors: { "4xx": 9, "5xx": 4, conn: 1 }, latency: { p50: 100, p95: 420, p99: 500 } }), tick([{ id: "a" }, { id: "b", down: true }], { rps: 50, errors: { "4xx": 0, "5xx": 5, conn: 0 }, latency: { p50: 100, p95: 420, p99: 500 } })];
    const rules = [
      rule({ id: "ready", kind: "ready_below", threshold: 2 }),
      rule({ id: "err", kind: "error_rate", threshold: 5 }),
      rule({ id: "lat", kind: "p95_above", threshold: 200 }),
      rule({ id: "max", kind: "autoscaler_at_max" }),
      rule({ id: "other", kind: "ready_below", threshold: 5, serviceId: "zzz" }),
    ];
    const s = signalsOf(rules, [facts(ticks, { autoscaler: { running: true, max: 4, desired: 4, recommendation: 7 } })]);
    expect(s.map((x) => [x.key, x.value])).toEqual([
      ["ready/s1", 1],
      ["err/s1", 10],
      ["lat/s1", 420],
      ["max/s1", 7],
    ]);
    // quiet: no requests is no error rate; a paused autoscaler is not "at max"
    const quiet = signalsOf(rules, [facts([tick([{ id: "a" }, { id: "b" }], { rps: 0, latency: { p50: null, p95: null, p99: null } })], { autoscaler: { running: false, max: 4, desired: 4, recommendation: 7 } })]);
    expect(quiet).toEqual([]);
  });
});

describe("a rollout rolled back", () => {
  it("holds for the minutes given after the rollback, per rollout; none, or an older one, does not", () => {
    const now = Date.UTC(2026, 10, 29, 12);
    const r = rule({ id: "rb", kind: "rollout_rolled_back", threshold: 10, forS: 0 });
    const rb = { id: "ro1", endedAt: now - 9 * 60_000, reason: "gate error-rate failed at step 1" };
    expect(signalsOf([r], [facts([], { lastRollback: rb })], [], now)).toMatchObject([{ key: "rb/s1/ro1", summary: "a rollout of web rolled back: gate error-rate failed at step 1" }]);
    expect(signalsOf([r], [facts([], { lastRollback: { ...rb, endedAt: now - 11 * 60_000 } })], [], now)).toEqual([]);
    expect(signalsOf([r], [facts([])], [], now)).toEqual([]);
    // fires at once (forS 0) and resolves once the window has passed and resolveS after it
    const first = step(new Map(), signalsOf([r], [facts([], { lastRollback: rb })], [], now), [r], now);
    expect(first.transitions.map((t) => t.status)).toEqual(["firing"]);
    const later = now + 2 * 60_000;
    const gone = step(first.states, signalsOf([r], [facts([], { lastRollback: rb })], [], later), [r], later);
    expect(gone.transitions).toEqual([]);
    const resolved = step(gone.states, [], [r], later + 11_000);
    expect(resolved.transitions.map((t) => t.status)).toEqual(["resolved"]);
  });
});

describe("certificates near expiry", () => {
  it("a certificate within the threshold (or expired) holds; the others do not; no service in the signal", () => {
    const now = Date.UTC(2026, 10, 29);
    const day = 86_400_000;
    const certs = [
      { id: "c1", subject: "CN=app.local", notAfter: now + 10 * day + 1000 },
      { id: "c2", subject: "CN=old.local", notAfter: now - day },
      { id: "c3", subject: "CN=fresh.local", notAfter: now + 200 * day },
    ];
    const s = signalsOf([rule({ kind: "certificate_expiry", threshold: 30 })], [facts([])], certs, now);
    expect(s.map((x) => [x.key, x.value, x.summary])).toEqual([
      ["r1/cert/c1", 10, "the certificate CN=app.local expires in 10 days, within 30"],
      ["r1/cert/c2", -1, "the certificate CN=old.local has expired"],
    ]);
    expect(s[0]).toMatchObject({ serviceId: null, certificateId: "c1", kind: "certificate_expiry" });
  });
});

describe("step: firing and resolved with hysteresis", () => {
  const r = rule({ kind: "replica_down", forS: 5, resolveS: 10 });
  const sig = signalsOf([r], [facts([tick([{ id: "a" }, { id: "b", down: true }])])]);
  const run = (pattern: [number, boolean][]) => {
    let states = new Map<string, AlertState>();
    const out: string[] = [];
    for (const [t, holds] of pattern) {
      const res = step(states, holds ? sig : [], [r], t * 1000);
      states = res.states;
      for (const x of res.transitions) out.push(`${t}:${x.status}`);
    }
    return { out, states };
  };

  it("fires after forS of holding, resolves after resolveS without", () => {
    expect(run([[0, true], [4, true], [5, true], [6, false], [15, false], [16, false]]).out).toEqual(["5:firing", "16:resolved"]);
  });

  it("a blip shorter than forS never fires", () => {
    expect(run([[0, true], [3, false], [4, true], [8, true], [9, false]]).out).toEqual([]);
  });

  it("a flapping signal stays one firing alert (no resolved/firing pair per flap)", () => {
    const pattern: [number, boolean][] = [[0, true], [5, true]];
    for (let t = 6; t < 60; t += 2) pattern.push([t, t % 4 === 0]);
    pattern.push([60, false], [70, false]);
    expect(run(pattern).out).toEqual(["5:firing", "70:resolved"]);
  });

  it("forS 0 fires at once; a rule taken away resolves what it fired", () => {
    const now = rule({ kind: "replica_down", forS: 0, resolveS: 0 });
    const first = step(new Map(), sig, [now], 0);
    expect(first.transitions.map((t) => t.status)).toEqual(["firing"]);
    const gone = step(first.states, sig, [], 1000);
    expect(gone.transitions.map((t) => t.status)).toEqual(["resolved"]);
    expect(gone.states.size).toBe(0);
  });
});

describe("alertSettingsSchema", () => {
  it("takes a webhook and rules, refuses what it must", () => {
    expect(alertSettingsSchema.safeParse({ webhook: { url: "http://127.0.0.1:9/hook", secret: "s3cret" }, rules: [{ id: "a", kind: "replica_down" }] }).success).toBe(true);
    for (const bad of [
      { webhook: { url: "file:///etc/passwd" }, rules: [] },
      { webhook: { url: "http://user:pw@127.0.0.1/" }, rules: [] },
      { webhook: null, rules: [{ id: "a", kind: "error_rate", threshold: 150 }] },
      { webhook: null, rules: [{ id: "a", kind: "replica_down" }, { id: "a", kind: "ready_below", threshold: 1 }] },
      { webhook: null, rules: [{ id: "A B", kind: "replica_down" }] },
      { webhook: { url: "http://127.0.0.1/", secret: "line\nbreak" }, rules: [] },
    ]) {
      expect(alertSettingsSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
