/**
 * Progressive rollouts (issue 16, part 2) against real things: the controller with a real
 * HAProxy and real replica processes, the collector's 1 s ticks and the panel's rollout
 * runner, driven through the route handlers of app/api, with a paced load (loopback,
 * bounded) through the balancer the whole time.
 *
 * - a canary to a version that answers 30 % errors (the replica app's ERROR_RATE=30 at
 *   start, ERROR_STATUS=503) is rolled back on its own: the record names the error-rate
 *   gate with its figures, the old version is back at full weight, the new replicas are
 *   gone, 0 failed requests (HAProxy retries a 503 and redispatches);
 * - a canary to a good version is promoted (the service runs the new environment on every
 *   replica), with the runner replaced mid-way (a panel restart) going on from its
 *   recorded step; 0 failed requests; every step an event.
 *
 * Listener 127.0.0.1:18550, replicas on 32400-32499 (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import type { RolloutView } from "@/lib/core/rollout";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { startPacedLoad, waitFor, type PacedLoad } from "../helpers/load";

const LISTEN = 18550;

type Routes = {
  rollouts: typeof import("@/app/api/services/[id]/rollouts/route");
  one: typeof import("@/app/api/services/[id]/rollouts/[rolloutId]/route");
};

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("rollouts with HAProxy and process replicas", () => {
  let h: ControllerHarness;
  let r: Routes;
  let load: PacedLoad | null = null;
  let runner: import("@/lib/rollout/runner").RolloutRunner;
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  const startRunner = async () => {
    forget("rollout-runner");
    runner = (await import("@/lib/rollout/runner")).rolloutRunner();
    runner.start();
  };
  const start = async (body: unknown): Promise<RolloutView> => {
    const res = await h.api(r.rollouts.POST, `/api/services/${h.serviceId}/rollouts`, { method: "POST", body }, { id: h.serviceId });
    const json = (await res.json()) as { rollout: RolloutView; error?: unknown };
    expect(res.status, JSON.stringify(json)).toBe(200);
    return json.rollout;
  };
  const get = async (id: string): Promise<RolloutView> => {
    const res = await h.api(r.one.GET, `/api/services/${h.serviceId}/rollouts/${id}`, {}, { id: h.serviceId, rolloutId: id });
    expect(res.status).toBe(200);
    return ((await res.json()) as { rollout: RolloutView }).rollout;
  };
  const ended = (id: string, timeoutMs: number) =>
    waitFor(`rollout ${id} ended`, async () => {
      const v = await get(id);
      return ["promoted", "rolled_back", "aborted"].includes(v.state) ? v : null;
    }, timeoutMs, 250);
  const rolloutEvents = async (rolloutId: string) =>
    (await h.m.db().event.findMany({ where: { serviceId: h.serviceId, kind: { startsWith: "rollout." } }, orderBy: { id: "asc" } })).filter((e) => e.data?.includes(rolloutId));
  const settled = (n: number, version: string) =>
    waitFor(`${n} replicas of ${version} ready and in HAProxy, nothing else`, async () => {
      const rows = await h.m.db().replica.findMany({ where: { serviceId: h.serviceId } });
      return rows.length === n && rows.every((x) => x.state === "ready" && x.inEngine && x.version === version && x.weight === 100) ? rows : null;
    }, 30_000, 200);

  beforeAll(async () => {
    // 5 retries: an attempt that meets the bad version's 503 is retried (HAProxy's default retry-on has 503), the last one elsewhere
    h = await startControllerHarness({ engine: "haproxy", listen: LISTEN, portRange: "32400-32499", service: { replicas: 2 } });
    await h.m.applyRules(h.serviceId, { baseRevision: await h.m.currentRevisionNumber(), rules: { retries: { count: 5 } } as never }, h.user);
    r = { rollouts: await import("@/app/api/services/[id]/rollouts/route"), one: await import("@/app/api/services/[id]/rollouts/[rolloutId]/route") };
    (await import("@/lib/services/live-views")).provideLiveViews().start();
    await startRunner();
  });

  afterAll(async () => {
    await load?.stop();
    runner?.stop();
    forget("rollout-runner");
    (await import("@/lib/controller/collector")).collector().stop();
    await h?.close();
  });

  it("a canary to a version answering 30 % errors is rolled back on its own, the error-rate gate named with its figures, 0 failed requests", async () => {
    load = startPacedLoad(LISTEN, { rps: 40, durationMs: 60_000, maxRequests: 5000 });
    const began = Date.now();
    const v = await start({ strategy: "canary", weights: [20, 50], holdS: 8, env: { ERROR_RATE: "30", ERROR_STATUS: "503" }, gates: { minRequests: 40 } });
    expect(v).toMatchObject({ state: "running", strategy: "canary", step: 0, replicas: 2 });
    const done = await ended(v.id, 45_000);
    console.log(`[rollout] bad version: ${done.state} after ${((Date.now() - began) / 1000).toFixed(1)} s: ${done.reason} (${since()})`);
    expect(done.state).toBe("rolled_back");
    expect(done.reason).toMatch(/^gate error-rate failed at step 1: error rate \d+\.\d % \(new, \d+\/\d+\)/);
    expect(done.lastGate).toMatchObject({ verdict: "fail", gate: "error-rate" });
    const bad = done.lastGate!.newFigures;
    expect(bad.requests).toBeGreaterThanOrEqual(40);
    expect(bad.errors / bad.requests).toBeGreaterThan(0.05); // what the gate failed on: above 0 % (old) + 5 points
    expect(done.lastGate!.oldFigures.errors).toBe(0);
    await settled(2, v.fromVersion);
    const result = await load.stop();
    load = null;
    console.log(`[rollout] load: ${result.ok} answered, ${result.failed} failed ${result.errors.slice(0, 3).join("; ")}`);
    expect(result.ok).toBeGreaterThan(200);
    expect(result.failed).toBe(0);
    const kinds = (await rolloutEvents(v.id)).map((e) => e.kind);
    expect(kinds).toEqual(["rollout.started", "rollout.step", "rollout.rolling-back", "rollout.rolled-back"]);
    // the service still runs its old spec
    expect((await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } })).env).toBe("{}");
  });

  it("a canary to a good version is promoted, going on from its recorded step after a restart of the runner, 0 failed requests", async () => {
    load = startPacedLoad(LISTEN, { rps: 40, durationMs: 80_000, maxRequests: 5000 });
    const began = Date.now();
    const v = await start({ strategy: "canary", weights: [20, 50], holdS: 4, env: { GREETING: "v2" }, gates: { minRequests: 20 } });
    // the panel stops once the first step holds: a new runner (as bootstrap starts it) goes on from the row
    await waitFor("step 2 reached", async () => ((await get(v.id)).step >= 1 ? true : null), 30_000, 200);
    runner.stop();
    const before = await get(v.id);
    await startRunner();
    const done = await ended(v.id, 60_000);
    console.log(`[rollout] good version: ${done.state} after ${((Date.now() - began) / 1000).toFixed(1)} s; last gate: ${done.lastGate?.message} (${since()})`);
    expect(before.step).toBeGreaterThanOrEqual(1);
    expect(done.state).toBe("promoted");
    expect(done.lastGate).toMatchObject({ verdict: "pass" });
    await settled(2, v.toVersion);
    const svc = await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } });
    expect(JSON.parse(svc.env)).toEqual({ GREETING: "v2" });
    const result = await load.stop();
    load = null;
    console.log(`[rollout] load: ${result.ok} answered, ${result.failed} failed ${result.errors.slice(0, 3).join("; ")}`);
    expect(result.ok).toBeGreaterThan(200);
    expect(result.failed).toBe(0);
    const events = await rolloutEvents(v.id);
    for (const e of events) console.log(`[rollout] event ${e.kind}: ${e.message}`);
    expect(events[0].kind).toBe("rollout.started");
    expect(events.filter((e) => e.kind === "rollout.step").length).toBeGreaterThanOrEqual(4); // 2 steps begun, 2 passed
    expect(events[events.length - 1].kind).toBe("rollout.promoted");
  });
  it("rolling, one at a time: each batch new up before old down, promoted; then one aborted by hand mid-way goes back to the old version; 0 failed requests", async () => {
    load = startPacedLoad(LISTEN, { rps: 30, durationMs: 80_000, maxRequests: 5000 });
    const before = (await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } })).env;
    const v = await start({ strategy: "rolling", batchSize: 1, holdS: 2, env: { GREETING: "v3" }, gates: { minRequests: 10 } });
    expect(v.steps.map((s) => [s.newReplicas, s.oldReplicas])).toEqual([[1, 1], [2, 0]]);
    // never fewer than 2 in rotation while it rolls
    let fewest = Infinity;
    const done = await waitFor("rolling rollout ended", async () => {
      fewest = Math.min(fewest, (await h.ready()).length);
      const now = await get(v.id);
      return ["promoted", "rolled_back", "aborted"].includes(now.state) ? now : null;
    }, 60_000, 200);
    console.log(`[rollout] rolling: ${done.state}, fewest in rotation ${fewest}; ${done.lastGate?.message} (${since()})`);
    expect(done.state).toBe("promoted");
    expect(fewest).toBeGreaterThanOrEqual(2);
    await settled(2, v.toVersion);
    expect(JSON.parse((await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } })).env)).toEqual({ GREETING: "v3" });
    expect(before).not.toBe(JSON.stringify({ GREETING: "v3" }));

    // abort by hand: the new replica drained and removed, the old version back at full weight
    const act = await import("@/app/api/services/[id]/rollouts/[rolloutId]/[action]/route");
    const w = await start({ strategy: "canary", weights: [50], holdS: 600, env: { GREETING: "v4" } });
    await waitFor("the canary step holding", async () => ((await get(w.id)).stepStartedAt ? true : null), 30_000, 200);
    // while it runs, an edit of what the replicas run is refused (its promotion would overwrite it)
    const svcRoute = await import("@/app/api/services/[id]/route");
    const edit = await h.api(svcRoute.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { env: { GREETING: "edited" } } }, { id: h.serviceId });
    expect(edit.status).toBe(409);
    const res = await h.api(act.POST, `/api/services/${h.serviceId}/rollouts/${w.id}/abort`, { method: "POST" }, { id: h.serviceId, rolloutId: w.id, action: "abort" });
    expect(res.status).toBe(200);
    const aborted = await ended(w.id, 30_000);
    expect(aborted.state).toBe("aborted");
    expect(aborted.reason).toBe(`aborted by ${h.user.username}`);
    await settled(2, w.fromVersion);
    const result = await load.stop();
    load = null;
    console.log(`[rollout] load: ${result.ok} answered, ${result.failed} failed ${result.errors.slice(0, 3).join("; ")}`);
    expect(result.failed).toBe(0);
    // an ended rollout takes no more actions
    const again = await h.api(act.POST, `/api/services/${h.serviceId}/rollouts/${w.id}/resume`, { method: "POST" }, { id: h.serviceId, rolloutId: w.id, action: "resume" });
    expect(again.status).toBe(409);
  });
});
