/**
 * What the README promises about scaling and applying, against real things: the
 * controller with a real HAProxy and real replica processes, driven through the route
 * handlers of app/api (same-origin requests with an admin session) and the use cases.
 *
 * - the MAX_REPLICAS cap: the API refuses above it with a clear error and nothing changes;
 * - HAProxy adds a replica through its runtime API: no reload (master `show proc`);
 * - scale-in drains: the victim keeps running until its in-flight request is answered,
 *   or until the drain timeout when a request holds on;
 * - a failed apply is a failed revision with HAProxy's own error text, nothing changed;
 * - rollback to a revision older than the previous one.
 *
 * Listener 127.0.0.1:18301, replicas on 24500-24599 (docs/TESTING.md).
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HaproxyEngine } from "@/lib/engines/haproxy";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, isRunning, type ControllerHarness } from "../helpers/controller-harness";
import { get, runLoad, waitFor } from "../helpers/load";

const LISTEN = 18301;
const MAX_REPLICAS = 4;

type Routes = {
  services: typeof import("@/app/api/services/route");
  service: typeof import("@/app/api/services/[id]/route");
  rules: typeof import("@/app/api/services/[id]/rules/route");
  actions: typeof import("@/app/api/replicas/[id]/actions/route");
  revisions: typeof import("@/app/api/balancer/revisions/route");
  rollback: typeof import("@/app/api/balancer/revisions/[number]/rollback/route");
};

/** A request through the balancer that reports when it was answered (or failed). */
function slowGet(path: string): Promise<{ status: number; replica: string | null; at: number; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port: LISTEN, path, agent: false, timeout: 60_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, replica: (res.headers["x-replica"] as string) ?? null, at: Date.now() }));
      res.on("error", (e) => resolve({ status: 0, replica: null, at: Date.now(), error: e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, replica: null, at: Date.now(), error: e.message }));
  });
}

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("README claims: scaling and applying with HAProxy and process replicas", () => {
  let h: ControllerHarness;
  let r: Routes;
  const engine = () => h.m.controller().engine as HaproxyEngine;
  const serverStats = async (replicaId: string) => (await engine().stats()).servers.find((s) => s.server.endsWith(replicaId));
  const setReplicas = (replicas: number) => h.api(r.service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { replicas } }, { id: h.serviceId });
  const putRules = async (rules: Record<string, unknown>) =>
    h.api(r.rules.PUT, `/api/services/${h.serviceId}/rules`, { method: "PUT", body: { baseRevision: await h.m.currentRevisionNumber(), rules } }, { id: h.serviceId });
  /** The scale-in victim: the newest replica (lib/core/plan.ts chooseVictims). */
  const newestReplica = async () => (await h.m.db().replica.findMany({ where: { serviceId: h.serviceId }, orderBy: { createdAt: "desc" } }))[0];
  /**
   * The replica answers after `latencyMs` (a latency fault); requests go through HAProxy
   * until one is in flight on it (its `scur`). Returns every request sent, answered or not.
   */
  const holdRequestOn = async (replicaId: string, latencyMs: number) => {
    await h.m.runReplicaAction(replicaId, { action: "faults", latencyMs }, h.user);
    const sent: ReturnType<typeof slowGet>[] = [];
    await waitFor("a slow request in flight on the victim", async () => {
      if (((await serverStats(replicaId))?.activeConnections ?? 0) > 0) return true;
      sent.push(slowGet("/"));
      return false;
    }, 10_000, 150);
    return sent;
  };
  const scaledTo = async (n: number) => {
    await waitFor(`${n} replicas ready and in HAProxy`, async () => {
      const list = await h.replicas();
      return list.length === n && list.every((x) => x.state === "ready" && x.inEngine) && (await engine().stats()).servers.filter((s) => s.health.status === "up").length === n;
    }, 30_000, 100);
  };

  beforeAll(async () => {
    h = await startControllerHarness({ engine: "haproxy", listen: LISTEN, portRange: "24500-24599", env: { MAX_REPLICAS: String(MAX_REPLICAS) } });
    r = {
      services: await import("@/app/api/services/route"),
      service: await import("@/app/api/services/[id]/route"),
      rules: await import("@/app/api/services/[id]/rules/route"),
      actions: await import("@/app/api/replicas/[id]/actions/route"),
      revisions: await import("@/app/api/balancer/revisions/route"),
      rollback: await import("@/app/api/balancer/revisions/[number]/rollback/route"),
    };
  });

  afterAll(async () => {
    await h?.close();
  });

  it(`refuses more than MAX_REPLICAS=${MAX_REPLICAS} through the API with a clear error, and nothing changes`, async () => {
    const before = { rows: (await h.replicas()).map((x) => x.id).sort(), revision: await h.m.currentRevisionNumber(), services: await h.m.db().service.count() };

    const over = await setReplicas(MAX_REPLICAS + 1);
    expect(over.status).toBe(400);
    expect((await over.json()).error.message).toBe(`replicas: at most ${MAX_REPLICAS} for web`);
    // a per-service maximum cannot lift the panel's cap
    const lifted = await h.api(r.service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { replicas: 10, maxReplicas: 50 } }, { id: h.serviceId });
    expect(lifted.status).toBe(400);
    expect((await lifted.json()).error.message).toBe(`replicas: at most ${MAX_REPLICAS} for web`);
    const created = await h.api(r.services.POST, "/api/services", { method: "POST", body: { name: "big", replicas: MAX_REPLICAS + 1 } });
    expect(created.status).toBe(400);
    expect((await created.json()).error.message).toBe(`replicas: at most ${MAX_REPLICAS}`);

    const svc = await h.m.db().service.findUniqueOrThrow({ where: { id: h.serviceId } });
    expect(svc.replicas).toBe(3);
    expect(svc.maxReplicas).toBeLessThanOrEqual(MAX_REPLICAS);
    expect(await h.m.db().service.count()).toBe(before.services);
    expect(await h.m.currentRevisionNumber()).toBe(before.revision);
    expect(await h.m.db().event.count({ where: { kind: "service.scaled" } })).toBe(0);
    // the controller had nothing to do: the same three replicas, and only them in HAProxy
    h.m.controller().kick(h.serviceId);
    await h.m.controller().settle(h.serviceId, 10_000);
    expect((await h.replicas()).map((x) => x.id).sort()).toEqual(before.rows);
    expect((await engine().stats()).servers).toHaveLength(3);
  });

  it("adds a replica through HAProxy's runtime API without a reload (scaling to the cap is allowed)", async () => {
    const before = await engine().master.showProc();
    const res = await setReplicas(MAX_REPLICAS);
    expect(res.status).toBe(200);
    await scaledTo(MAX_REPLICAS);
    const after = await engine().master.showProc();
    console.log(`[claims] show proc before: master reloads ${before.master.reloads}, worker ${before.workers.map((w) => w.pid)}; after: ${after.master.reloads}, worker ${after.workers.map((w) => w.pid)}`);
    expect(after.master.reloads).toBe(before.master.reloads);
    expect(after.master.failedReloads).toBe(before.master.failedReloads);
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid));
    expect(after.oldWorkers).toHaveLength(0);
    // the live file was rewritten to hold every server, so a later reload keeps the new one
    const added = (await h.replicas()).map((x) => x.id);
    const live = (await engine().liveConfig()) ?? "";
    for (const id of added) expect(live).toContain(`server r-${id}`);
    // and it serves
    const load = await runLoad(LISTEN, { concurrency: 4, durationMs: 1500, maxRequests: 2000 });
    expect(load.failed).toBe(0);
    expect(Object.keys(load.byReplica).sort()).toEqual([...added].sort());
  });

  it("scale-in keeps the victim running until its in-flight request is answered, and that request succeeds", async () => {
    // the newest replica is the scale-in victim; hold a slow request on it through the balancer
    const target = await newestReplica();
    const slow = await holdRequestOn(target.id, 4000);

    const scaledAt = Date.now();
    expect((await setReplicas(MAX_REPLICAS - 1)).status).toBe(200);
    await waitFor("the victim to drain", async () => (await h.m.db().replica.findUnique({ where: { id: target.id } }))?.state === "draining", 5000, 50);
    expect((await serverStats(target.id))?.health.status).toBe("drain");

    // watch the victim's process while its request is answered
    let goneAt = 0;
    const watch = waitFor("the victim's process to end", () => {
      if (isRunning(target.runtimeRef!)) return false;
      goneAt = Date.now();
      return true;
    }, 40_000, 25);
    // new requests meanwhile go to the others
    const others = await runLoad(LISTEN, { concurrency: 2, durationMs: 1500, maxRequests: 500 });
    expect(others.failed).toBe(0);
    expect(others.byReplica[target.id]).toBeUndefined();

    const answers = await Promise.all(slow);
    const onVictim = answers.filter((a) => a.replica === target.id);
    await watch;
    console.log(`[claims] slow requests: ${answers.map((a) => `${a.replica}:${a.status}${a.error ? ` ${a.error}` : ""}`).join(", ")}; victim answered ${Math.max(...onVictim.map((a) => a.at)) - scaledAt} ms after the scale-in, its process ended ${goneAt - scaledAt} ms after`);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(onVictim.length).toBeGreaterThan(0);
    for (const a of onVictim) expect(goneAt).toBeGreaterThanOrEqual(a.at);
    await scaledTo(MAX_REPLICAS - 1);
    expect((await h.replicas()).some((x) => x.id === target.id)).toBe(false);
  });

  it("scale-in stops a replica at the drain timeout when a request holds on", async () => {
    const drainTimeoutMs = 4000;
    expect((await putRules({ drainTimeoutMs })).status).toBe(200);
    await scaledTo(MAX_REPLICAS - 1);
    const newest = await newestReplica();
    const slow = await holdRequestOn(newest.id, 30_000);
    const scaledAt = Date.now();
    expect((await setReplicas(MAX_REPLICAS - 2)).status).toBe(200);
    await waitFor("the victim's process to end", () => !isRunning(newest.runtimeRef!), 30_000, 25);
    const waited = Date.now() - scaledAt;
    const answers = await Promise.all(slow);
    console.log(`[claims] drain timeout ${drainTimeoutMs} ms: victim ${newest.id} stopped ${waited} ms after the scale-in; the held requests: ${answers.map((a) => `${a.replica}:${a.status}${a.error ? ` ${a.error}` : ""} at +${a.at - scaledAt} ms`).join(", ")}`);
    // it waited for the drain timeout (not stopped at once), then HAProxy ended what was left
    // within its last second (not a second drain timeout), and the 30 s request did not hold it
    expect(waited).toBeGreaterThanOrEqual(drainTimeoutMs);
    expect(waited).toBeLessThan(drainTimeoutMs + 3000);
    await scaledTo(MAX_REPLICAS - 2);
    expect((await putRules({ drainTimeoutMs: 30_000 })).status).toBe(200);
  });

  it("records a failed apply as a failed revision with HAProxy's own error text; nothing changes and traffic flows", async () => {
    const ctl = h.m.controller();
    const before = { revision: await h.m.currentRevisionNumber(), live: await engine().liveConfig(), rules: (await h.m.getService(h.serviceId)).rules };
    // A replica whose address the engine cannot resolve (a container name on a bridge network
    // that is gone): only haproxy -c finds out. The controller pauses so it does not clean the row up first.
    await ctl.stop();
    const ghost = await h.m.db().replica.create({
      data: { id: "ghostreplica01", serviceId: h.serviceId, runtime: "process", state: "ready", inEngine: true, dataAddr: "no-such-replica.invalid:8000" },
    });
    try {
      const res = await putRules({ algorithm: "least_conn" });
      const body = await res.json();
      console.log("[claims] failed apply answered", res.status, JSON.stringify(body.error).slice(0, 400));
      expect(res.status).toBe(422);
      expect(body.error.code).toBe("engine_error");
      expect(body.error.message).toContain("could not resolve address 'no-such-replica.invalid'");

      const failed = await h.m.db().revision.findFirstOrThrow({ orderBy: { number: "desc" } });
      expect(failed.number).toBe(before.revision + 1);
      expect(failed.status).toBe("failed");
      expect(failed.engineError).toMatch(/\[ALERT\].*'server be_web\/r-ghostreplica01' : could not resolve address 'no-such-replica\.invalid'/);
      // the revision list (what the Balancer page shows) carries the engine's text
      const listed = (await (await h.api(r.revisions.GET, "/api/balancer/revisions")).json()).revisions as { number: number; status: string; engineError: string | null }[];
      expect(listed.find((x) => x.number === failed.number)).toMatchObject({ status: "failed", engineError: failed.engineError });
      expect(await h.m.db().event.count({ where: { kind: "rules.failed" } })).toBe(1);
      // nothing changed: the running revision, the live file, the stored rules
      expect(await h.m.currentRevisionNumber()).toBe(before.revision);
      expect(await engine().liveConfig()).toBe(before.live);
      expect((await h.m.getService(h.serviceId)).rules).toEqual(before.rules);
      // a failed revision is not a rollback target
      const back = await h.api(r.rollback.POST, `/api/balancer/revisions/${failed.number}/rollback`, { method: "POST", body: {} }, { number: String(failed.number) });
      expect(back.status).toBe(409);
    } finally {
      await h.m.db().replica.delete({ where: { id: ghost.id } });
      await ctl.start();
    }
    const load = await runLoad(LISTEN, { concurrency: 2, durationMs: 800, maxRequests: 1000 });
    expect(load.failed).toBe(0);
  });

  it("rolls back to a revision older than the previous one: its rules run again, as a new revision", async () => {
    const applied: number[] = [];
    for (const algorithm of ["least_conn", "random_two", "uri_hash"] as const) {
      const res = await putRules({ algorithm, sticky: { mode: algorithm === "least_conn" ? "cookie" : "none" } });
      expect(res.status).toBe(200);
      applied.push((await res.json()).revision.number);
    }
    const [oldest] = applied;
    const load = runLoad(LISTEN, { concurrency: 2, durationMs: 3000, maxRequests: 20_000 });
    const res = await h.api(r.rollback.POST, `/api/balancer/revisions/${oldest}/rollback`, { method: "POST", body: {} }, { number: String(oldest) });
    expect(res.status).toBe(200);
    const { revision } = (await res.json()) as { revision: { number: number; status: string; summary: string } };
    expect(revision).toMatchObject({ number: applied[2] + 1, status: "applied", summary: `rollback to revision ${oldest}: web: algorithm uri_hash → least_conn, sticky none → cookie` });
    expect(await h.m.currentRevisionNumber()).toBe(revision.number);
    // the rules of the oldest one are stored and running
    const rules = (await h.m.getService(h.serviceId)).rules;
    expect(rules.algorithm).toBe("least_conn");
    expect(rules.sticky.mode).toBe("cookie");
    const live = (await engine().liveConfig()) ?? "";
    expect(live).toMatch(/backend be_web\n {4}balance leastconn\n/);
    expect(live).toContain("cookie SYSTICKY insert indirect nocache dynamic");
    const snapshot = (await h.m.db().revision.findUniqueOrThrow({ where: { number: oldest } })).config;
    expect(JSON.parse(snapshot).services[0].rules).toEqual(rules);
    const result = await load;
    expect(result.failed).toBe(0);
    // HAProxy hands out its sticky cookie again
    const hit = await get(LISTEN);
    expect(hit.status).toBe(200);
    expect(hit.setCookie.some((c) => c.startsWith("SYSTICKY="))).toBe(true);
  });
});
