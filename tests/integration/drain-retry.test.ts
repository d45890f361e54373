/**
 * A replica whose drain fails does not stay `draining` forever (issue 10, Medium 5). With
 * the controller as the panel runs it (real HAProxy, real replica processes, real database):
 * the engine dies before the panel notices (its watchdog is paused), a scale-in picks a
 * victim, and draining it in the engine fails. The drain is recorded as failed and the
 * replica stays out of the count; the panel then restarts (a new controller with no memory
 * of the drain), restarts HAProxy from the database, where the victim is rendered in drain,
 * and retries the drain: no request reaches the victim after HAProxy is back, and it ends
 * stopped, its process gone.
 *
 * Listener 127.0.0.1:18324, replicas on 25550-25599 (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { hasBinary, needs } from "../helpers/requirements";
import { isRunning, startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { startLoad, until, waitFor } from "../helpers/load";

const LISTEN = 18324;

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("a replica whose drain fails (the engine is down)", () => {
  let h: ControllerHarness;

  beforeAll(async () => {
    h = await startControllerHarness({ engine: "haproxy", listen: LISTEN, portRange: "25550-25599", service: { replicas: 3 } });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  const eventsSince = (id: number) => h.m.db().event.findMany({ where: { id: { gt: id } }, orderBy: { id: "asc" } });

  it("is retried, never back in rotation, and ends stopped, across a panel restart", async () => {
    const first = h.m.controller();
    first.watchdog.stop(); // the panel has not noticed the engine died: it still drains through it
    const since = (await h.m.db().event.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0;
    const engineBefore = await first.engine.status();
    process.kill(engineBefore.pid!, "SIGKILL");
    await until("HAProxy down", () => first.engine.status(), (s) => !s.running, 10_000);

    await h.m.updateService(h.serviceId, { replicas: 2 }, h.user);
    const failed = await until("a failed drain", () => eventsSince(since), (es) => es.some((e) => e.kind === "replica.drain-failed"), 30_000);
    const victimId = failed.find((e) => e.kind === "replica.drain-failed")!.replicaId!;
    const victim = await h.m.db().replica.findUniqueOrThrow({ where: { id: victimId } });
    console.log(`[drain-retry] ${failed.find((e) => e.kind === "replica.drain-failed")!.message}`);
    expect(victim.state).toBe("draining");
    expect(isRunning(victim.runtimeRef!)).toBe(true);

    // The panel restarts: the old controller stops, a new one (no memory of the drain) starts,
    // restarts HAProxy from the database, and finds the replica still draining.
    await first.stop();
    forget("controller");
    const load = startLoad(LISTEN, { concurrency: 2, durationMs: 60_000, pauseAfterFailureMs: 20 });
    try {
      const second = h.m.controller();
      await second.start();
      const engineBackAt = Date.now();
      expect((await second.engine.status()).running).toBe(true);
      await waitFor("the victim stopped and gone", async () => !isRunning(victim.runtimeRef!) && !(await h.m.db().replica.findUnique({ where: { id: victimId } })), 40_000, 200);
      await waitFor("200 answers after HAProxy came back", () => load.hits.filter((x) => x.sentAt > engineBackAt).length >= 200, 20_000);
      const result = await load.stop();
      // every answer of this load came through the restarted HAProxy (it started while the engine was down)
      const toVictim = result.hits.filter((x) => x.replica === victimId).length;
      const events = await eventsSince(since);
      const mine = events.filter((e) => e.replicaId === victimId).map((e) => `${e.kind}: ${e.message}`);
      console.log(`[drain-retry] after the restart: ${toVictim} of ${result.hits.length} answers came from the victim; its events:\n  ${mine.join("\n  ")}`);
      expect(toVictim).toBe(0);
      expect(events.some((e) => e.replicaId === victimId && e.kind === "replica.draining" && /did not finish/.test(e.message))).toBe(true);
      expect(events.some((e) => e.replicaId === victimId && e.kind === "replica.stopped")).toBe(true);
      await waitFor("two replicas in rotation", async () => (await h.ready()).length === 2, 20_000);
      expect(await h.replicas()).toHaveLength(2);
    } finally {
      await load.stop();
    }
  }, 120_000);
});
