import { describe, expect, it } from "vitest";
import { restartOutcome } from "@/components/replicas/restart-outcome";

const before = "2026-11-29T02:00:00.000Z";
const after = "2026-11-29T02:00:03.000Z";

describe("the line a replica card shows after Restart", () => {
  it("says restarting until the replica has restarted, then back in rotation once it is", () => {
    const watch = { from: before, sawStarting: false };
    // the API answered, the controller has not begun yet
    expect(restartOutcome(watch, { state: "ready", startedAt: before, lastError: null }, "in-rotation")).toMatchObject({ tone: "busy", text: expect.stringMatching(/^restarting/) });
    expect(restartOutcome({ ...watch, sawStarting: true }, { state: "starting", startedAt: after, lastError: null }, "starting").text).toMatch(/^restarting/);
    // a new process that is healthy and in rotation again
    expect(restartOutcome({ ...watch, sawStarting: true }, { state: "ready", startedAt: after, lastError: null }, "in-rotation")).toEqual({ tone: "ok", text: "restarted: back in rotation" });
    // a restart too quick to be seen as "starting" still counts: the start time changed
    expect(restartOutcome(watch, { state: "ready", startedAt: after, lastError: null }, "in-rotation").text).toBe("restarted: back in rotation");
  });

  it("says what keeps a restarted replica out of rotation", () => {
    const watch = { from: before, sawStarting: true };
    expect(restartOutcome(watch, { state: "ready", startedAt: after, lastError: null }, "checking").text).toMatch(/first health check/);
    expect(restartOutcome(watch, { state: "ready", startedAt: after, lastError: null }, "maint")).toMatchObject({ tone: "warn", text: expect.stringContaining("not in rotation: maint") });
    expect(restartOutcome(watch, { state: "ready", startedAt: after, lastError: null }, "down")).toMatchObject({ tone: "warn", text: expect.stringContaining("not in rotation: down") });
  });

  it("says when the replica did not come back", () => {
    const out = restartOutcome({ from: before, sawStarting: true }, { state: "failed", startedAt: after, lastError: "did not come back healthy: 503" }, "failed");
    expect(out).toEqual({ tone: "error", text: "the replica did not come back from its restart: did not come back healthy: 503" });
  });
});
