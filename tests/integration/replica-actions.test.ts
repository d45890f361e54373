/**
 * Every replica action end to end, as the README lists them (stress CPU, faults: latency,
 * error rate, failing health; drain / maint / ready; weight; restart; remove; and stop),
 * sent through the API route (POST /api/replicas/:id/actions, a same-origin request with
 * an admin session) to real replica processes behind a real HAProxy. Each test looks at
 * the effect where it happens: on the replica itself (its admin info, its process) and in
 * HAProxy (`show stat`: status, weight, counters; traffic through the listener).
 *
 * Listener 127.0.0.1:18302, replicas on 24600-24699 (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HaproxyEngine } from "@/lib/engines/haproxy";
import type { ReplicaInfo } from "@/lib/core/mgmt";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, isRunning, type ControllerHarness } from "../helpers/controller-harness";
import { get, runLoad, startLoad, until, waitFor, type Hit } from "../helpers/load";

const LISTEN = 18302;

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("replica actions end to end (API route → replica and HAProxy)", () => {
  let h: ControllerHarness;
  let actions: typeof import("@/app/api/replicas/[id]/actions/route");
  let runtime: import("@/lib/runtime/types").Runtime;
  const engine = () => h.m.controller().engine as HaproxyEngine;

  /** POST /api/replicas/:id/actions through the route handler. */
  async function act(replicaId: string, body: Record<string, unknown>): Promise<{ status: number; json: { result?: unknown; error?: { message: string } } }> {
    const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body }, { id: replicaId });
    return { status: res.status, json: await res.json() };
  }
  const ok = async (replicaId: string, body: Record<string, unknown>) => {
    const res = await act(replicaId, body);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    return res.json.result;
  };
  /** What the replica says about itself on its own admin port (with the service's token from the database). */
  async function info(replicaId: string): Promise<ReplicaInfo> {
    const row = await h.m.db().replica.findUniqueOrThrow({ where: { id: replicaId }, include: { service: true } });
    const res = await fetch(`http://${row.adminAddr}/admin/info`, { headers: { authorization: `Bearer ${row.service.adminToken}` }, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    return (await res.json()) as ReplicaInfo;
  }
  /** HAProxy's own row for the replica (`show stat`). */
  const row = async (replicaId: string) => (await engine().runtime.showStat()).find((r) => r.pxname === "be_web" && r.svname === `r-${replicaId}`);
  const stats = async (replicaId: string) => (await engine().stats()).servers.find((s) => s.server === `r-${replicaId}`);
  const statusOf = async (replicaId: string) => (await stats(replicaId))?.health.status;
  /** `n` sequential requests through HAProxy, each on a new connection. */
  async function through(n: number): Promise<Hit[]> {
    const hits: Hit[] = [];
    for (let i = 0; i < n; i++) hits.push(await get(LISTEN));
    return hits;
  }
  const pick = async (i = 0) => (await h.ready()).sort((a, b) => a.id.localeCompare(b.id))[i];

  beforeAll(async () => {
    h = await startControllerHarness({ engine: "haproxy", listen: LISTEN, portRange: "24600-24699" });
    actions = await import("@/app/api/replicas/[id]/actions/route");
    runtime = (await import("@/lib/runtime/registry")).runtimeFor("process");
  });

  afterAll(async () => {
    await h?.close();
  });

  it("stress-cpu: the replica burns a core until its time is up or Clear; HAProxy keeps it in rotation", async () => {
    const target = await pick();
    const result = (await ok(target.id, { action: "stress-cpu", seconds: 20 })) as { seconds: number; cpuUntil: string };
    expect(result.seconds).toBe(20);
    expect((await info(target.id)).stress.cpuUntil).toBe(result.cpuUntil);
    const busy = await until("the replica's CPU above 35 % of a core (a contended machine gives it less than a core)", async () => (await runtime.stats(target.runtimeRef!))?.cpuPercent ?? 0, (cpu) => cpu > 35, 10_000, 500);
    console.log(`[actions] stress-cpu: ${busy.toFixed(0)} % of a core`);
    // the burner runs off the event loop: health stays green, HAProxy keeps sending traffic
    expect(await statusOf(target.id)).toBe("up");
    expect((await through(6)).filter((x) => x.replica === target.id && x.status === 200).length).toBeGreaterThan(0);
    const cleared = (await ok(target.id, { action: "clear" })) as { stoppedCpu: boolean };
    expect(cleared.stoppedCpu).toBe(true);
    expect((await info(target.id)).stress.cpuUntil).toBeNull();
    await until("the replica's CPU back under 15 %", async () => (await runtime.stats(target.runtimeRef!))?.cpuPercent ?? 100, (cpu) => cpu < 15, 10_000, 500);
  });

  it("faults latency: requests HAProxy sends to that replica take that long; Clear ends it", async () => {
    const target = await pick();
    expect(await ok(target.id, { action: "faults", latencyMs: 400 })).toEqual({ faults: { latencyMs: 400, errorRate: 0, failHealth: false } });
    expect((await info(target.id)).faults.latencyMs).toBe(400);
    const hits = await through(9);
    const slow = hits.filter((x) => x.replica === target.id);
    const fast = hits.filter((x) => x.replica !== target.id);
    expect(slow.length).toBeGreaterThan(0);
    for (const x of slow) expect(x.at - x.sentAt).toBeGreaterThanOrEqual(390);
    for (const x of fast) expect(x.at - x.sentAt).toBeLessThan(390);
    expect(hits.every((x) => x.status === 200)).toBe(true);
    await ok(target.id, { action: "clear" });
    expect((await info(target.id)).faults).toEqual({ latencyMs: 0, errorRate: 0, failHealth: false });
  });

  it("faults error rate: clients get the replica's 500s, HAProxy counts them and its passive check takes it out; Clear and it returns", async () => {
    const target = await pick();
    const before = (await stats(target.id))!.responses["5xx"];
    await ok(target.id, { action: "faults", errorRate: 1 });
    const hits = await through(12);
    const errors = hits.filter((x) => x.status === 500);
    expect(errors.length).toBeGreaterThan(0);
    expect(hits.filter((x) => x.status !== 200 && x.status !== 500)).toEqual([]);
    // HAProxy's own counters for that server, and passive.maxFails (3) consecutive errors mark it down
    await until("HAProxy to count the 5xx", async () => (await stats(target.id))!.responses["5xx"] - before, (n) => n >= errors.length, 5000);
    // (its active checks still pass, so it comes back after `rise` and errs again: keep the errors coming)
    await until("HAProxy's passive check to mark it down", async () => (await get(LISTEN), statusOf(target.id)), (s) => s === "down", 5000);
    await ok(target.id, { action: "clear" });
    await until("back up after Clear (active checks pass again)", () => statusOf(target.id), (s) => s === "up", 10_000);
  });

  it("faults failing health: HAProxy marks it down within interval × fall and sends it nothing; Clear brings it back", async () => {
    const target = await pick(1);
    const load = startLoad(LISTEN, { concurrency: 2, durationMs: 20_000, maxRequests: 200_000 });
    const t0 = Date.now();
    await ok(target.id, { action: "faults", failHealth: true });
    await until("HAProxy marks it down", () => statusOf(target.id), (s) => s === "down", 5000);
    const downAfter = Date.now() - t0;
    console.log(`[actions] failHealth: down after ${downAfter} ms (inter 500 ms × fall 2)`);
    expect(downAfter).toBeLessThan(500 * 2 + 2000);
    expect((await stats(target.id))!.health.reason).toMatch(/L7STS 503/);
    const countAtDown = (await stats(target.id))!.totalRequests;
    await until("more traffic to pass", () => load.hits.length, (n) => n > 200, 10_000);
    const hitsAtDown = load.hits.length;
    await until("another 200 requests", () => load.hits.length, (n) => n > hitsAtDown + 200, 10_000);
    expect((await stats(target.id))!.totalRequests - countAtDown).toBeLessThanOrEqual(1);
    await ok(target.id, { action: "clear" });
    await until("back up", () => statusOf(target.id), (s) => s === "up", 5000);
    const result = await load.stop();
    expect(result.failed).toBe(0);
  });

  it("drain, maint, ready: HAProxy's state follows at once, traffic leaves and returns", async () => {
    const target = await pick(2);
    for (const [state, shown] of [["drain", "drain"], ["maint", "maint"], ["ready", "up"]] as const) {
      await ok(target.id, { action: state });
      expect((await h.m.db().replica.findUniqueOrThrow({ where: { id: target.id } })).adminState).toBe(state);
      expect(await statusOf(target.id)).toBe(shown);
      const hits = await through(9);
      const mine = hits.filter((x) => x.replica === target.id).length;
      expect(hits.every((x) => x.status === 200)).toBe(true);
      if (state === "ready") expect(mine).toBeGreaterThan(0);
      else expect(mine).toBe(0);
    }
    // the live file keeps the state for a later reload (maint is `disabled` there)
    await ok(target.id, { action: "maint" });
    expect(await engine().liveConfig()).toMatch(new RegExp(`server r-${target.id} .* disabled\\n`));
    await ok(target.id, { action: "ready" });
  });

  it("weight: HAProxy's weight changes at once and the share follows it", async () => {
    const target = await pick();
    // replicas start at weight 100: 200 of 200+100+100 is half the traffic
    await ok(target.id, { action: "weight", weight: 200 });
    expect((await row(target.id))?.weight).toBe("200");
    expect((await h.m.db().replica.findUniqueOrThrow({ where: { id: target.id } })).weight).toBe(200);
    const load = await runLoad(LISTEN, { concurrency: 2, durationMs: 5000, maxRequests: 600 });
    const share = (load.byReplica[target.id] ?? 0) / load.ok;
    console.log(`[actions] weight 200 of 200+100+100: share ${(share * 100).toFixed(1)} % of ${load.ok}`);
    expect(load.failed).toBe(0);
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    await ok(target.id, { action: "weight", weight: 100 });
    expect((await row(target.id))?.weight).toBe("100");
  });

  it("restart: a new process on the same ports, out of rotation meanwhile, without a failed request", async () => {
    const target = await pick();
    const oldInfo = await info(target.id);
    const load = startLoad(LISTEN, { concurrency: 2, durationMs: 20_000, maxRequests: 200_000 });
    const seen = new Set<string>();
    const res = await act(target.id, { action: "restart" });
    expect(res.status).toBe(200);
    await waitFor(
      "the replica back in rotation with a new process",
      async () => {
        const status = (await statusOf(target.id)) ?? "?";
        seen.add(status);
        const r = await h.m.db().replica.findUniqueOrThrow({ where: { id: target.id } });
        return r.state === "ready" && r.runtimeRef !== target.runtimeRef && status === "up";
      },
      20_000,
    );
    const fresh = await info(target.id);
    expect(fresh.pid).not.toBe(oldInfo.pid);
    expect(isRunning(String(oldInfo.pid))).toBe(false);
    expect(fresh.replica).toBe(target.id);
    expect(seen.has("maint")).toBe(true);
    await until("traffic to reach it again", () => load.hits.filter((x) => x.replica === target.id && x.at > Date.now() - 1000).length, (n) => n > 0, 10_000);
    const result = await load.stop();
    console.log(`[actions] restart under load: ${result.ok} ok, ${result.failed} failed; HAProxy states seen: ${[...seen].join(", ")}`);
    expect(result.failed).toBe(0);
  });

  it("remove: one replica fewer wanted; it drains, leaves HAProxy and stops, and is not replaced", async () => {
    const target = await pick();
    const before = (await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } })).replicas;
    const load = startLoad(LISTEN, { concurrency: 2, durationMs: 20_000, maxRequests: 200_000 });
    await ok(target.id, { action: "remove" });
    expect((await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } })).replicas).toBe(before - 1);
    await waitFor("its process to end", () => !isRunning(target.runtimeRef!), 20_000);
    expect(await stats(target.id)).toBeUndefined();
    const result = await load.stop();
    expect(result.failed).toBe(0);
    h.m.controller().kick(h.serviceId);
    await h.m.controller().settle(h.serviceId, 10_000);
    expect((await h.replicas()).map((x) => x.id)).not.toContain(target.id);
    expect(await h.ready()).toHaveLength(before - 1);
    expect((await engine().stats()).servers).toHaveLength(before - 1);
  });

  it("stop: the process ends and the controller replaces it", async () => {
    const target = await pick();
    const count = (await h.ready()).length;
    await ok(target.id, { action: "stop" });
    await waitFor("its process to end", () => !isRunning(target.runtimeRef!), 15_000);
    await waitFor("a replacement in rotation", async () => {
      const list = await h.ready();
      return list.length === count && !list.some((x) => x.id === target.id);
    }, 30_000, 200);
    expect((await engine().stats()).servers.map((s) => s.server)).not.toContain(`r-${target.id}`);
  });
});
