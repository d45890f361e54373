/**
 * The controller against real things: real replica processes (process runtime),
 * a real engine (HAProxy, then the builtin proxy), a real SQLite database.
 * Traffic stays on loopback; every load loop is bounded in time and count.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { openTempDatabase, type TempDatabase } from "../helpers/temp-db";
import { runLoad, startLoad, until, waitFor } from "../helpers/load";
import { hasBinary, needs } from "../helpers/requirements";

const noHaproxy = hasBinary("haproxy");

/** A Docker engine and the replica image (scripts/build-replica-image.sh), or why not. */
const noDocker = (() => {
  try {
    execFileSync("docker", ["version"], { stdio: "ignore", timeout: 5000 });
  } catch {
    try {
      execFileSync("bash", ["scripts/start-dockerd.sh"], { stdio: "ignore", timeout: 120_000 });
    } catch (err) {
      return `no Docker engine answers and scripts/start-dockerd.sh could not start one: ${(err as Error).message}`;
    }
  }
  try {
    execFileSync("bash", ["scripts/build-replica-image.sh"], { stdio: "ignore", timeout: 120_000 });
    return null;
  } catch (err) {
    return `the replica image could not be built: ${(err as Error).message}`;
  }
})();

/**
 * nginx OSS reloads for every membership change (batched) and every prober verdict, and a
 * reload closes idle keep-alive connections: clients that reuse one at that instant see a
 * reset (measured here: a few per reload). The load below uses keep-alive clients, so for
 * nginx the suite allows at most 1 % failed requests and prints the real count; HAProxy and
 * the builtin proxy must lose none.
 */
const engines = [
  { engine: "haproxy", runtime: "process", listen: 18084, range: "22000-22099", missing: noHaproxy, reloadLoss: 0 },
  { engine: "builtin", runtime: "process", listen: 18094, range: "22100-22199", missing: null, reloadLoss: 0 },
  { engine: "haproxy", runtime: "docker", listen: 18104, range: "22200-22299", missing: noHaproxy ?? noDocker, reloadLoss: 0 },
  { engine: "nginx", runtime: "process", listen: 18114, range: "22300-22399", missing: hasBinary("nginx"), reloadLoss: 0.01 },
] as const;

const maxFailed = (e: (typeof engines)[number], ok: number) => Math.floor(ok * e.reloadLoss);

for (const e of engines) {
  describe.skipIf(needs(`the ${e.engine} engine with ${e.runtime} replicas`, e.missing))(`controller with the ${e.engine} engine and ${e.runtime} replicas`, () => {
    let tmp: TempDatabase;
    let mod: {
      controller: typeof import("@/lib/controller/controller").controller;
      createService: typeof import("@/lib/services/manage-services").createService;
      updateService: typeof import("@/lib/services/manage-services").updateService;
      getService: typeof import("@/lib/services/manage-services").getService;
      applyRules: typeof import("@/lib/services/apply-rules").applyRules;
      currentRevisionNumber: typeof import("@/lib/services/apply-balancer-config").currentRevisionNumber;
      runReplicaAction: typeof import("@/lib/services/replica-action").runReplicaAction;
      db: typeof import("@/lib/db/client").db;
    };
    let serviceId = "";
    const user = { id: "u", username: "tester", role: "admin" as const, sessionId: "s" };

    const replicas = async () => (await mod.getService(serviceId)).instances;
    const ready = async () => (await replicas()).filter((r) => r.state === "ready" && r.inEngine);
    const pids = async () => (await replicas()).map((r) => r.runtimeRef).sort();
    const alive = (ref: string) => {
      if (e.runtime === "docker") {
        try {
          return execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", ref], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() === "true";
        } catch {
          return false;
        }
      }
      try {
        process.kill(Number(ref), 0);
        return true;
      } catch {
        return false;
      }
    };
    const kill9 = (ref: string) => {
      if (e.runtime === "docker") execFileSync("docker", ["kill", "-s", "KILL", ref], { stdio: "ignore" });
      else process.kill(Number(ref), "SIGKILL");
    };

    beforeAll(async () => {
      process.env.ENGINE = e.engine;
      process.env.BALANCER_PORT = String(e.listen);
      process.env.PORT_RANGE = e.range;
      process.env.RUNTIME = e.runtime;
      process.env.DOCKER_NETWORK = "host";
      tmp = await openTempDatabase(`ctl-${e.engine}`);
      for (const k of ["engine", "controller", "runtime-process", "runtime-docker", "collector", "prober"]) forget(k);
      mod = {
        ...(await import("@/lib/controller/controller")),
        ...(await import("@/lib/services/manage-services")),
        ...(await import("@/lib/services/apply-rules")),
        ...(await import("@/lib/services/apply-balancer-config")),
        ...(await import("@/lib/services/replica-action")),
        ...(await import("@/lib/db/client")),
      };
      await mod.controller().start();
      // the panel's prober supplies active health checks where the engine has none (nginx)
      (await import("@/lib/controller/prober")).prober().start();
      const svc = await mod.createService(
        { name: "web", dataPort: 8000, adminPort: 9000, env: {}, memoryLimitMb: 256, cpuLimit: null, replicas: 3, minReplicas: 0 },
        user,
      );
      serviceId = svc.id;
      await waitFor("3 replicas in rotation", async () => (await ready()).length === 3, 30_000, 200);
    });

    afterAll(async () => {
      if (!mod) return;
      const leftovers = await mod.db().replica.findMany();
      const ctl = mod.controller();
      (await import("@/lib/controller/prober")).prober().stop();
      await ctl.stop();
      for (const r of leftovers) {
        if (!r.runtimeRef) continue;
        if (e.runtime === "docker") execFileSync("docker", ["rm", "-f", r.runtimeRef], { stdio: "ignore" });
        else if (alive(r.runtimeRef)) process.kill(Number(r.runtimeRef), "SIGKILL");
      }
      await ctl.engine.stop().catch(() => undefined);
      for (const k of ["engine", "controller", "runtime-process", "runtime-docker", "collector", "prober"]) forget(k);
      await tmp.close();
    });

    it("runs the desired replicas and serves through the engine", async () => {
      const list = await ready();
      expect(list).toHaveLength(3);
      for (const r of list) expect(alive(r.runtimeRef!)).toBe(true);
      const load = await runLoad(e.listen, { concurrency: 3, durationMs: 1000, maxRequests: 600 });
      expect(load.failed).toBe(0);
      expect(Object.keys(load.byReplica).sort()).toEqual(list.map((r) => r.id).sort());
    });

    it("replaces a replica killed with SIGKILL", async () => {
      const [victim] = await ready();
      kill9(victim.runtimeRef!);
      await waitFor("the dead replica to be replaced", async () => {
        const list = await ready();
        return list.length === 3 && !list.some((r) => r.id === victim.id);
      }, 20_000, 200);
      const events = await mod.db().event.findMany({ where: { replicaId: victim.id, kind: "replica.died" } });
      expect(events).toHaveLength(1);
    });

    const loss = e.reloadLoss ? "losing at most 1 % to nginx reloads" : "without a failed request";

    it(`scales 3 → 6 → 2 under load ${loss}`, async () => {
      const load = startLoad(e.listen, { concurrency: 4, durationMs: 90_000, maxRequests: 400_000 });
      await waitFor("the load to be running", () => load.hits.length >= 50);
      await mod.updateService(serviceId, { replicas: 6 }, user);
      await waitFor("6 in rotation", async () => (await ready()).length === 6 && (await replicas()).length === 6, 30_000, 200);
      await mod.updateService(serviceId, { replicas: 2 }, user);
      await waitFor("2 left", async () => (await replicas()).length === 2 && (await ready()).length === 2, 30_000, 200);
      const doneAt = Date.now();
      await waitFor("100 requests sent after the scale-in", () => load.hits.filter((h) => h.sentAt > doneAt).length >= 100);
      const result = await load.stop();
      console.log(`[${e.engine}/${e.runtime}] scale 3→6→2 under load: ${result.ok} ok, ${result.failed} failed`, result.errors.slice(0, 3));
      expect(result.failed).toBeLessThanOrEqual(maxFailed(e, result.ok));
      expect(result.ok).toBeGreaterThan(100);
    });

    it(`applies rules five times under load ${loss}, and records revisions`, async () => {
      await mod.updateService(serviceId, { replicas: 3 }, user);
      await waitFor("3 in rotation", async () => (await ready()).length === 3 && (await replicas()).length === 3, 30_000, 200);
      const before = await mod.currentRevisionNumber();
      const load = startLoad(e.listen, { concurrency: 4, durationMs: 60_000, maxRequests: 300_000 });
      await waitFor("the load to be running", () => load.hits.length >= 50);
      const algorithms = ["least_conn", "round_robin", "random_two", "least_conn", "round_robin"] as const;
      for (const algorithm of algorithms) {
        const base = await mod.currentRevisionNumber();
        await mod.applyRules(serviceId, { baseRevision: base, rules: { algorithm } }, user);
        await new Promise((r) => setTimeout(r, 600)); // paces the applies through the load
      }
      const result = await load.stop();
      console.log(`[${e.engine}/${e.runtime}] five applies under load: ${result.ok} ok, ${result.failed} failed`, result.errors.slice(0, 3));
      expect(result.failed).toBeLessThanOrEqual(maxFailed(e, result.ok));
      expect(await mod.currentRevisionNumber()).toBe(before + 5);
      await expect(mod.applyRules(serviceId, { baseRevision: before, rules: {} }, user)).rejects.toMatchObject({ code: "conflict" });
    });

    it(`isolates a replica whose memory passes the threshold (${loss}), and Clear brings it back`, async () => {
      const [target] = await ready();
      const svc = await mod.getService(serviceId);
      const load = startLoad(e.listen, { concurrency: 4, durationMs: 90_000, maxRequests: 400_000 });
      await waitFor("the load to reach the target", () => load.hits.some((hit) => hit.replica === target.id));
      // 256 MB limit, 80 % threshold: holding 200 MB (the card's default) pushes RSS past
      // it (~245 MB), while what the memory cgroup charges stays under the limit (~225 MB),
      // so a runtime that enforces the limit isolates the replica rather than OOM-killing
      // it (at 128 MB with 110 MB held, the kernel killed it now and then)
      await mod.runReplicaAction(target.id, { action: "stress-memory", mb: 200 }, user);
      const t0 = Date.now();
      const stats = async () => (await mod.controller().engine.stats()).servers.find((s) => s.server.endsWith(target.id));
      await until("the engine to mark it down", stats, (s) => s?.health.status === "down", 5000);
      const downAfter = Date.now() - t0;
      const h = svc.rules.healthCheck;
      console.log(`[${e.engine}/${e.runtime}] marked down ${downAfter} ms after stress (interval ${h.intervalMs} × fall ${h.fall})`);
      expect(downAfter).toBeLessThan(h.intervalMs * h.fall + 2000);
      // nginx learns "down" from the panel's prober, which holds the engine lock until nginx has
      // reloaded with the server down: once the lock is ours, the window starts (HAProxy and the
      // builtin proxy act on their own checks, and nothing holds the lock)
      await mod.controller().engineLock.run(async () => undefined);
      const countAtDown = (await stats())!.totalRequests;
      await new Promise((r) => setTimeout(r, 1500)); // the window in which it must get (almost) nothing
      expect((await stats())!.totalRequests - countAtDown).toBeLessThanOrEqual(2);
      // Clear goes to the replica's own admin address even though the balancer isolated it
      const cleared = (await mod.runReplicaAction(target.id, { action: "clear" }, user)).result as { releasedMb: number };
      expect(cleared.releasedMb).toBeGreaterThanOrEqual(100);
      await until("the engine to report it up again", stats, (s) => s?.health.status === "up", 6000);
      const result = await load.stop();
      console.log(`[${e.engine}/${e.runtime}] isolation and recovery under load: ${result.ok} ok, ${result.failed} failed`);
      expect(result.failed).toBeLessThanOrEqual(maxFailed(e, result.ok));
    });

    it("adopts running replicas and the engine when the controller restarts: nothing duplicated or restarted", async () => {
      const pidsBefore = await pids();
      const engineBefore = await mod.controller().engine.status();
      const load = startLoad(e.listen, { concurrency: 2, durationMs: 60_000, maxRequests: 300_000 });
      await waitFor("the load to be running", () => load.hits.length >= 50);
      await mod.controller().stop();
      const stoppedAt = Date.now();
      // a new panel process would not hold the old one's files (nginx's access log reader)
      await (mod.controller().engine as { close?: () => unknown }).close?.();
      for (const k of ["engine", "controller", "runtime-process", "runtime-docker"]) forget(k);
      const ctl = mod.controller();
      await ctl.start(); // adopts the engine, then a first resync
      // a few more resyncs, each waited out: none may restart or double a replica
      for (let i = 0; i < 2; i++) {
        await ctl.resync();
        await ctl.settle(serviceId, 20_000);
      }
      const adoptedAt = Date.now();
      const engineAfter = await ctl.engine.status();
      expect(engineAfter.adopted).toBe(true);
      expect(engineAfter.pid).toBe(engineBefore.pid);
      expect(await pids()).toEqual(pidsBefore);
      expect((await replicas()).every((r) => r.state === "ready")).toBe(true);
      await waitFor("100 requests sent after the new controller took over", () => load.hits.filter((h) => h.sentAt > adoptedAt).length >= 100);
      const result = await load.stop();
      console.log(`[${e.engine}/${e.runtime}] controller restart: ${result.ok} ok (${result.hits.filter((h) => h.sentAt > stoppedAt && h.sentAt < adoptedAt).length} sent while it restarted), ${result.failed} failed`);
      expect(result.failed).toBe(0);
    });

    it("deleting the service takes it out of the balancer and stops every replica", async () => {
      const refs = (await replicas()).map((r) => r.runtimeRef!);
      const { deleteService } = await import("@/lib/services/manage-services");
      await deleteService(serviceId, user);
      await waitFor("every replica stopped", () => refs.every((ref) => !alive(ref)), 20_000, 200);
      const stats = await mod.controller().engine.stats();
      expect(stats.servers.filter((s) => s.service === "web")).toHaveLength(0);
    });
  });
}
