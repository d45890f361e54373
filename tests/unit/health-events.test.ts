import { describe, expect, it } from "vitest";
import { checkPending, healthEventFor, passiveTakedown } from "@/lib/core/health-events";
import { displayState } from "@/components/replicas/replica-state";
import type { ReplicaView } from "@/lib/services/views";
import type { ReplicaTick } from "@/lib/core/metrics";

const up = { status: "up" as const, reason: "L7OK 200: OK" };

describe("health event wording (issue 12, item 8)", () => {
  it("an active check failure says the health check fails, with its reason", () => {
    const e = healthEventFor("r1", up, { status: "down", reason: "L7STS 503: Service Unavailable" }, 3);
    expect(e).toEqual({ level: "warn", message: "replica r1 fails its health check (L7STS 503: Service Unavailable): out of rotation" });
  });

  it("a passive error-limit takedown (last check still L7OK) names the passive error limit, not the check", () => {
    const down = { status: "down" as const, reason: "L7OK 200: OK" };
    expect(passiveTakedown(down)).toBe(true);
    const e = healthEventFor("r1", up, down, 5);
    expect(e).toEqual({ level: "warn", message: "replica r1 taken out of rotation by the passive error limit (5 consecutive errors)" });
    expect(e?.message).not.toMatch(/fails its health check|L7OK/);
    expect(healthEventFor("r1", up, down, 1)?.message).toBe("replica r1 taken out of rotation by the passive error limit (1 consecutive error)");
    expect(healthEventFor("r1", up, down, 0)?.message).toBe("replica r1 taken out of rotation by the passive error limit");
    // the builtin engine's own passive reason
    expect(healthEventFor("r1", up, { status: "down", reason: "passive: 3 failures in 10000 ms (5xx: 502)" }, 3)?.message).toBe(
      "replica r1 taken out of rotation by the passive error limit (3 failures in 10000 ms (5xx: 502))",
    );
  });

  it("the first pass of a new replica says first, not again", () => {
    expect(healthEventFor("r1", { status: "down", reason: "INI" }, up)).toEqual({ level: "info", message: "replica r1 passes its first health check: in rotation" });
    expect(healthEventFor("r1", { status: "down", reason: null }, up)?.message).toBe("replica r1 passes its first health check: in rotation");
    // HAProxy: a dynamic server is registered in MAINT (check INI) before `enable server`
    expect(healthEventFor("r1", { status: "maint", reason: "INI" }, up)?.message).toBe("replica r1 passes its first health check: in rotation");
  });

  it("a pass after a failure says again", () => {
    expect(healthEventFor("r1", { status: "down", reason: "L7STS 503" }, up)).toEqual({ level: "info", message: "replica r1 passes its health check again: back in rotation" });
    expect(healthEventFor("r1", { status: "down", reason: "L7OK 200" }, up)?.message).toBe("replica r1 passes its health check again: back in rotation");
  });

  it("a new replica before its first check: no event, shown as checking, not down", () => {
    const pending = { status: "down" as const, reason: "INI" };
    expect(checkPending(pending)).toBe(true);
    expect(checkPending({ status: "down", reason: "L7STS 503" })).toBe(false);
    expect(checkPending({ status: "unknown", reason: null })).toBe(false);
    expect(healthEventFor("r1", undefined, pending)).toBeNull();
    expect(healthEventFor("r1", undefined, up)).toBeNull();
    const replica = { id: "r1", state: "running", adminState: "ready", inEngine: true, health: "down", healthReason: "INI" } as unknown as ReplicaView;
    const tick = { replicaId: "r1", inRotation: false, health: { ...pending, lastChangeMs: null } } as unknown as ReplicaTick;
    expect(displayState(replica, tick)).toBe("checking");
    expect(displayState(replica, undefined)).toBe("checking");
    expect(displayState(replica, { ...tick, health: { status: "down", reason: "L7STS 503", lastChangeMs: null } })).toBe("down");
    expect(displayState({ ...replica, inEngine: false } as ReplicaView, undefined)).toBe("down");
    // a tick from before the engine had it (the collector's fallback for a starting replica)
    expect(displayState(replica, { ...tick, health: { status: "down", reason: "starting", lastChangeMs: null } })).toBe("checking");
    expect(displayState(replica, { ...tick, health: { status: "maint", reason: "INI", lastChangeMs: null } })).toBe("checking");
    // an engine that reports nothing is not taken for a pending check
    expect(displayState(replica, { ...tick, health: { status: "unknown", reason: null, lastChangeMs: null } })).toBe("down");
  });

  it("nothing to log when the status does not cross up/down", () => {
    expect(healthEventFor("r1", up, { status: "maint", reason: null })).toBeNull();
    expect(healthEventFor("r1", { status: "down", reason: "INI" }, { status: "down", reason: "L7STS 503" })).toBeNull();
  });
});
