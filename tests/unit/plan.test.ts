import { describe, expect, it } from "vitest";
import { chooseVictims, engineAdminState, plan, type ActualReplica } from "@/lib/core/plan";
import { routeConflict, routeKey } from "@/lib/core/routes";
import { rulesSchema } from "@/lib/core/rules";

const r = (id: string, state: ActualReplica["state"], createdAt: number, alive = true): ActualReplica => ({ id, state, createdAt, alive });

describe("plan(desired, actual)", () => {
  it("creates what is missing", () => {
    expect(plan(3, [])).toEqual({ create: 3, drain: [], cleanup: [] });
    expect(plan(3, [r("a", "ready", 1)])).toEqual({ create: 2, drain: [], cleanup: [] });
  });

  it("does nothing when desired equals actual (level-triggered, idempotent)", () => {
    const actual = [r("a", "ready", 1), r("b", "starting", 2), r("c", "ready", 3)];
    expect(plan(3, actual)).toEqual({ create: 0, drain: [], cleanup: [] });
    expect(plan(3, actual)).toEqual(plan(3, actual));
  });

  it("replaces a dead replica: cleans it up and creates one", () => {
    const actual = [r("a", "ready", 1), r("b", "ready", 2, false), r("c", "ready", 3)];
    expect(plan(3, actual)).toEqual({ create: 1, drain: [], cleanup: ["b"] });
  });

  it("does not count draining or stopping replicas", () => {
    const actual = [r("a", "ready", 1), r("b", "draining", 2), r("c", "stopping", 3)];
    expect(plan(2, actual).create).toBe(1);
    expect(plan(1, actual).create).toBe(0);
  });

  it("drains again a replica whose drain did not finish (engine down, panel restarted), whatever the desired count", () => {
    // alive and leaving: the caller has no drain in flight for it (else it would skip the id)
    const actual = [r("a", "ready", 1), r("b", "draining", 2), r("c", "stopping", 3)];
    expect(plan(1, actual)).toEqual({ create: 0, drain: ["b", "c"], cleanup: [] });
    expect(plan(3, actual)).toEqual({ create: 2, drain: ["b", "c"], cleanup: [] });
    // unfinished drains come first, then this round's scale-in victims
    expect(plan(0, actual)).toEqual({ create: 0, drain: ["b", "c", "a"], cleanup: [] });
    // level-triggered: the same inputs give the same retry
    expect(plan(1, actual)).toEqual(plan(1, actual));
  });

  it("cleans up a leaving replica whose process is gone and has no drain in flight", () => {
    const actual = [r("a", "ready", 1), r("b", "draining", 2, false), r("c", "stopping", 3, false)];
    expect(plan(1, actual)).toEqual({ create: 0, drain: [], cleanup: ["b", "c"] });
  });

  it("cleans up failed replicas, alive or not, and replaces them", () => {
    const actual = [r("a", "ready", 1), r("f1", "failed", 2), r("f2", "failed", 3, false)];
    const p = plan(2, actual);
    expect(p.create).toBe(1);
    expect(p.cleanup.sort()).toEqual(["f1", "f2"]);
  });

  it("drains the surplus on scale-in", () => {
    const actual = [r("a", "ready", 1), r("b", "ready", 2), r("c", "ready", 3), r("d", "ready", 4), r("e", "ready", 5)];
    expect(plan(1, actual)).toEqual({ create: 0, drain: ["e", "d", "c", "b"], cleanup: [] });
    expect(plan(0, actual).drain).toHaveLength(5);
  });

  it("treats a negative desired count as zero", () => {
    expect(plan(-2, [r("a", "ready", 1)]).drain).toEqual(["a"]);
  });
});

describe("engineAdminState", () => {
  it("never renders a leaving replica ready: an engine restarted mid-drain keeps it out of rotation", () => {
    expect(engineAdminState("draining", "ready")).toBe("drain");
    expect(engineAdminState("stopping", "ready")).toBe("drain");
    expect(engineAdminState("draining", "maint")).toBe("maint");
  });

  it("keeps the admin state of a replica that stays, and reads anything unknown as ready", () => {
    expect(engineAdminState("ready", "ready")).toBe("ready");
    expect(engineAdminState("ready", "drain")).toBe("drain");
    expect(engineAdminState("starting", "maint")).toBe("maint");
    expect(engineAdminState("ready", "bogus")).toBe("ready");
  });
});

describe("chooseVictims", () => {
  it("takes failed first, then starting (newest first), then the newest ready", () => {
    const actual = [r("old", "ready", 1), r("new", "ready", 9), r("s1", "starting", 5), r("s2", "starting", 7), r("x", "failed", 2)];
    expect(chooseVictims(actual, 1)).toEqual(["x"]);
    expect(chooseVictims(actual, 3)).toEqual(["x", "s2", "s1"]);
    expect(chooseVictims(actual, 4)).toEqual(["x", "s2", "s1", "new"]);
  });

  it("returns nothing for a count of zero or less", () => {
    expect(chooseVictims([r("a", "ready", 1)], 0)).toEqual([]);
  });

  it("is deterministic when creation times tie", () => {
    const actual = [r("a", "ready", 1), r("b", "ready", 1), r("c", "ready", 1)];
    expect(chooseVictims(actual, 2)).toEqual(chooseVictims([...actual].reverse(), 2));
  });
});

describe("route conflicts", () => {
  const svc = (name: string, route: object) => ({ name, rules: rulesSchema.parse({ route }) });
  it("two services cannot own the same host and prefix", () => {
    const others = [svc("web", {}), svc("api", { host: "api.local", pathPrefix: "/v1/" })];
    expect(routeConflict(rulesSchema.parse({}).route, others)).toBe("web");
    expect(routeConflict(rulesSchema.parse({ route: { host: "api.local", pathPrefix: "/v1" } }).route, others)).toBe("api");
    expect(routeConflict(rulesSchema.parse({ route: { host: "api.local" } }).route, others)).toBeNull();
    expect(routeConflict(rulesSchema.parse({ route: { pathPrefix: "/admin" } }).route, others)).toBeNull();
    expect(routeKey(rulesSchema.parse({ route: { pathPrefix: "/v1/" } }).route)).toBe("*/v1");
  });
});
