/**
 * Network faults on the balancer → replica path (issue 14, item 2), with real replica
 * processes behind a real HAProxy, the builtin proxy and nginx, through the
 * `network-fault` kind (lib/faults/network/kind.ts):
 * - latency: the balancer's own latency figures for that replica rise, the others' do not;
 * - errorRate 1: retries and health route around it, 0 failed requests (HAProxy, builtin);
 * - blackhole: the health check takes it out of rotation (HAProxy, builtin);
 * - undo: the engine's server address is the replica's own again, the proxy process is
 *   gone, and a second undo is a no-op; a full apply (reload) keeps the fault, and after undo keeps it off;
 * - through the fault store: the proxy survives a controller restart and is adopted (same
 *   pid, traffic still delayed), one that died meanwhile is started again on its port, one
 *   whose time ran out meanwhile is undone at start;
 * - through the API (HAProxy): the time limit undoes it, Clear does, a second Clear is a no-op;
 * - a proxy started but never recorded (the panel died in between) is released by Clear and at the next start.
 * Ports: listeners 18480-18482, replicas 29410-29699, fault proxies 19010-19099 (docs/TESTING.md).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultRecord, FaultTarget } from "@/lib/faults/types";
import type { NetworkFaultParams } from "@/lib/faults/network/params";
import type { NetworkFaultState } from "@/lib/faults/network/kind";
import type { ServerStats } from "@/lib/engines/types";
import { forget } from "@/lib/remember";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { startLoad, until, waitFor, get } from "../helpers/load";

const engines = [
  { engine: "haproxy", listen: 18480, range: "29410-29499", proxies: "19010-19039", missing: hasBinary("haproxy"), reloads: 0 },
  { engine: "builtin", listen: 18481, range: "29500-29599", proxies: "19040-19069", missing: null, reloads: 0 },
  // nginx OSS changes a server's address and takes a replica out or back only by a reload (the
  // switch, out, the switch back, in: 4), and a reload closes idle keep-alive connections, which
  // can cost each keep-alive client at most one read error per reload
  { engine: "nginx", listen: 18482, range: "29600-29699", proxies: "19070-19099", missing: hasBinary("nginx"), reloads: 4 },
] as const;

/** Requests in buckets above 100 ms, and all requests, from a server's latency buckets. */
function slowAndAll(s: ServerStats | undefined): { slow: number; all: number } {
  const b = s?.latencyBuckets ?? {};
  let slow = 0;
  let all = 0;
  for (const [k, n] of Object.entries(b)) {
    all += n;
    if (k === "+Inf" || Number(k) > 100) slow += n;
  }
  return { slow, all };
}

for (const e of engines) {
  describe.skipIf(needs(e.engine, e.missing))(`network faults on ${e.engine}`, () => {
    let h: ControllerHarness;
    let kinds: typeof import("@/lib/faults/network/kind");
    let proc: typeof import("@/lib/faults/network/process");

    const engine = () => h.m.controller().engine;
    const sorted = async () => (await h.ready()).sort((a, b) => a.id.localeCompare(b.id));
    async function targetOf(replicaId: string): Promise<FaultTarget> {
      const r = await h.m.db().replica.findUniqueOrThrow({ where: { id: replicaId }, include: { service: true } });
      const split = (a: string | null) => (a ? { host: a.slice(0, a.lastIndexOf(":")), port: Number(a.slice(a.lastIndexOf(":") + 1)) } : null);
      return { replicaId: r.id, serviceId: r.serviceId, serviceName: r.service.name, runtime: "process", runtimeRef: r.runtimeRef, dataAddr: split(r.dataAddr), adminAddr: split(r.adminAddr) };
    }
    async function applyFault(replicaId: string, params: NetworkFaultParams): Promise<FaultRecord<NetworkFaultParams, NetworkFaultState>> {
      const state = await kinds.networkFaultKind.apply(await targetOf(replicaId), params);
      const now = new Date();
      return { id: `f-${replicaId}`, replicaId, serviceId: h.serviceId, kind: "network-fault", params, state, startedAt: now, expiresAt: new Date(now.getTime() + params.seconds * 1000) };
    }
    const proxyAddr = (rec: FaultRecord<NetworkFaultParams, NetworkFaultState>) => `${rec.state.proxy.host}:${rec.state.proxy.port}`;
    const serverStats = async (replicaId: string) => (await engine().stats()).servers.find((s) => s.server === `r-${replicaId}`);
    /** the address the running engine has for the replica's server */
    async function engineAddr(replicaId: string): Promise<string | null> {
      const eng = engine();
      if (e.engine === "haproxy") {
        const rows = await (eng as import("@/lib/engines/haproxy").HaproxyEngine).runtime.showStat();
        return rows.find((r) => r.svname === `r-${replicaId}`)?.addr ?? null;
      }
      const live = (await eng.liveConfig()) ?? "";
      if (e.engine === "builtin") {
        const cfg = JSON.parse(live) as { services: { servers: { name: string; host: string; port: number }[] }[] };
        const s = cfg.services.flatMap((x) => x.servers).find((x) => x.name === `r-${replicaId}`);
        return s ? `${s.host}:${s.port}` : null;
      }
      // nginx: the upstream line of this replica (the config names the server in a comment-free "server host:port" line per replica)
      const dataAddr = (await h.m.db().replica.findUniqueOrThrow({ where: { id: replicaId } })).dataAddr!;
      const faultAddr = (await h.m.db().replica.findUniqueOrThrow({ where: { id: replicaId } })).faultAddr;
      if (faultAddr && live.includes(`server ${faultAddr}`)) return faultAddr;
      return live.includes(`server ${dataAddr}`) ? dataAddr : null;
    }
    /** the record fields expectUndone does not read, for a fault the store applied */
    const applyless = async (id: string): Promise<Omit<FaultRecord<NetworkFaultParams, NetworkFaultState>, "state">> => {
      const f = await h.m.db().fault.findUniqueOrThrow({ where: { id } });
      return { id, replicaId: f.replicaId, serviceId: f.serviceId, kind: "network-fault", params: JSON.parse(f.params) as NetworkFaultParams, startedAt: f.startedAt, expiresAt: f.expiresAt };
    };
    async function expectUndone(rec: FaultRecord<NetworkFaultParams, NetworkFaultState>, replicaId: string): Promise<void> {
      const row = await h.m.db().replica.findUniqueOrThrow({ where: { id: replicaId } });
      expect(row.faultAddr).toBeNull();
      expect(await engineAddr(replicaId)).toBe(row.dataAddr);
      expect(await proc.liveProxyPid(proc.proxyFiles(replicaId), rec.state.proxy.port)).toBeNull();
      expect(rec.state.proxy.pid === null || !proc.isFaultProxy(rec.state.proxy.pid)).toBe(true);
      await expect(get(rec.state.proxy.port, { timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED/);
    }

    beforeAll(async () => {
      h = await startControllerHarness({ engine: e.engine, listen: e.listen, portRange: e.range, env: { FAULT_PROXY_PORTS: e.proxies } });
      kinds = await import("@/lib/faults/network/kind");
      proc = await import("@/lib/faults/network/process");
    });
    afterAll(async () => {
      // every fault proxy of this data folder, also those a failed test left switched on
      if (h && proc) {
        const fsp = await import("node:fs/promises");
        const dir = path.dirname(proc.proxyFiles("x").pidFile);
        for (const f of (await fsp.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".pid"))) {
          await proc.stopProxyProcess(proc.proxyFiles(f.slice(0, -4)), undefined, null).catch(() => undefined);
        }
      }
      await h?.close();
    });

    it("latency: the balancer measures it for that replica only; undo puts the replica's own address back and stops the proxy", async () => {
      const [a, b, c] = await sorted();
      const rec = await applyFault(a.id, { latencyMs: 300, seconds: 60 });
      expect(await engineAddr(a.id)).toBe(proxyAddr(rec));
      expect(a.dataAddr).not.toBe(proxyAddr(rec));
      const before = new Map(await Promise.all([a, b, c].map(async (r) => [r.id, slowAndAll(await serverStats(r.id))] as const)));
      const load = startLoad(e.listen, { concurrency: 6, durationMs: 2500 });
      const result = await load.done;
      const delta = async (id: string) => {
        const now = slowAndAll(await serverStats(id));
        const was = before.get(id)!;
        return { slow: now.slow - was.slow, all: now.all - was.all };
      };
      const [da, db, dc] = await until("the balancer's figures for the load", () => Promise.all([delta(a.id), delta(b.id), delta(c.id)]), (d) => d.every((x) => x.all > 0), 10_000, 200);
      console.log(`${e.engine} latency 300 ms on ${a.id}: ${result.ok} ok, ${result.failed} failed; requests over 100 ms as the balancer measured them: faulted ${da.slow}/${da.all}, others ${db.slow}/${db.all}, ${dc.slow}/${dc.all}`);
      expect(result.failed).toBe(0);
      expect(da.slow / da.all).toBeGreaterThanOrEqual(0.9);
      expect(db.slow / db.all).toBeLessThan(0.1);
      expect(dc.slow / dc.all).toBeLessThan(0.1);

      await kinds.networkFaultKind.undo(await targetOf(a.id), rec);
      await expectUndone(rec, a.id);
      await kinds.networkFaultKind.undo(await targetOf(a.id), rec); // idempotent
      await kinds.networkFaultKind.undo(null, rec); // replica gone: no error either
      const hits = await Promise.all(Array.from({ length: 6 }, () => get(e.listen)));
      expect(hits.every((x) => x.status === 200 && x.at - x.sentAt < 250)).toBe(true);
    });

    it("errorRate 1: retries and health route around it, 0 failed requests; then undone", async () => {
      const [a] = await sorted();
      const clients = 4;
      const load = startLoad(e.listen, { concurrency: clients, durationMs: 30_000 });
      const rec = await applyFault(a.id, { errorRate: 1, seconds: 60 });
      const t0 = Date.now();
      await waitFor(`${a.id} out of rotation`, async () => (await serverStats(a.id))?.health.status === "down", 10_000, 100);
      const downMs = Date.now() - t0;
      await kinds.networkFaultKind.undo(await targetOf(a.id), rec);
      await waitFor(`${a.id} back in rotation`, async () => (await serverStats(a.id))?.health.status === "up", 10_000, 100);
      const result = await load.stop();
      console.log(`${e.engine} errorRate 1 on ${a.id}: down after ${downMs} ms; ${result.ok} ok, ${result.failed} failed ${JSON.stringify(result.errors.slice(0, 3))}`);
      expect(result.failed).toBeLessThanOrEqual(e.reloads * clients);
      expect(result.ok).toBeGreaterThan(20);
      await expectUndone(rec, a.id);
    });

    it("blackhole: the health check isolates it, and undo brings it back", async () => {
      const [, b] = await sorted();
      const rec = await applyFault(b.id, { blackhole: true, seconds: 60 });
      const t0 = Date.now();
      await waitFor(`${b.id} out of rotation`, async () => (await serverStats(b.id))?.health.status === "down", 10_000, 100);
      if (e.engine === "nginx") {
        // the prober's verdict is in stats at once; nginx takes the replica out with the (batched) reload that renders it `down`
        const line = async () => ((await engine().liveConfig()) ?? "").split("\n").find((l) => l.includes(`server ${proxyAddr(rec)} `)) ?? "";
        await waitFor("nginx rendering it down", async () => (await line()).includes(" down; #"), 10_000, 100);
        await h.m.controller().engineLock.run(async () => undefined); // the prober's setProbeDown (its reload) has returned
      }
      const downMs = Date.now() - t0;
      const hits = await Promise.all(Array.from({ length: 10 }, () => get(e.listen, { timeoutMs: 3000 })));
      console.log(`${e.engine} blackhole on ${b.id}: down after ${downMs} ms (interval 500 ms, timeout 1000 ms, fall 2); then 10 of ${hits.filter((x) => x.status === 200).length} answered`);
      expect(hits.every((x) => x.status === 200)).toBe(true);
      await kinds.networkFaultKind.undo(await targetOf(b.id), rec);
      await expectUndone(rec, b.id);
      await waitFor(`${b.id} back in rotation`, async () => (await serverStats(b.id))?.health.status === "up", 10_000, 100);
    });

    it("a full apply (a reload) while the fault is set keeps it; after undo one keeps the replica's own address", async () => {
      const [a] = await sorted();
      const { currentBalancerConfig } = await import("@/lib/db/balancer-config");
      const reload = async () => {
        const cfg = await currentBalancerConfig();
        await h.m.controller().engineLock.run(async () => {
          const r = await engine().apply(engine().render(cfg), cfg);
          expect(r.ok && r.reloaded, JSON.stringify(r)).toBe(true);
        });
      };
      const rec = await applyFault(a.id, { latencyMs: 50, seconds: 60 });
      await reload();
      expect(await engineAddr(a.id)).toBe(proxyAddr(rec));
      await kinds.networkFaultKind.undo(await targetOf(a.id), rec);
      await reload();
      await expectUndone(rec, a.id);
    });

    // the API path is the same on every engine: it runs once, on HAProxy (defined only there, not a counted skip elsewhere)
    if (e.engine === "haproxy") it("through the API: the time limit undoes it, and Clear does (twice: a no-op)", async () => {
      const actions = await import("@/app/api/replicas/[id]/actions/route");
      const act = async (replicaId: string, body: Record<string, unknown>) => {
        const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body }, { id: replicaId });
        const json = (await res.json()) as { result?: { faultsCleared?: unknown[] }; error?: { message: string } };
        expect(res.status, JSON.stringify(json)).toBe(200);
        return json.result!;
      };
      const faultAddrOf = async (id: string) => (await h.m.db().replica.findUniqueOrThrow({ where: { id } })).faultAddr;
      const portOf = (addr: string) => Number(addr.slice(addr.lastIndexOf(":") + 1));
      const [a] = await sorted();

      await act(a.id, { action: "network-fault", latencyMs: 100, seconds: 2 });
      const first = (await faultAddrOf(a.id))!;
      expect(await engineAddr(a.id)).toBe(first);
      const t0 = Date.now();
      await waitFor("the time limit undoing it", async () => (await faultAddrOf(a.id)) === null && !(await proc.liveProxyPid(proc.proxyFiles(a.id), portOf(first))), 10_000, 100);
      console.log(`${e.engine} API: a 2 s fault undone by its time limit ${Date.now() - t0} ms after it started`);
      expect(await engineAddr(a.id)).toBe(a.dataAddr);

      await act(a.id, { action: "network-fault", errorRate: 1, seconds: 60 });
      const second = (await faultAddrOf(a.id))!;
      expect(await engineAddr(a.id)).toBe(second);
      const cleared = await act(a.id, { action: "clear" });
      expect(cleared.faultsCleared).toHaveLength(1);
      expect(await faultAddrOf(a.id)).toBeNull();
      expect(await engineAddr(a.id)).toBe(a.dataAddr);
      expect(await proc.liveProxyPid(proc.proxyFiles(a.id), portOf(second))).toBeNull();
      expect((await act(a.id, { action: "clear" })).faultsCleared).toHaveLength(0);
    });

    it("a proxy the panel started but did not live to record is released by Clear, and when the panel starts again", async () => {
      const [, b] = await sorted();
      const port = Number(e.proxies.split("-")[1]);
      const files = proc.proxyFiles(b.id);
      const { pointBalancerAt } = await import("@/lib/faults/network/switch");
      const orphan = async () => {
        const pid = await proc.startProxyProcess({ files, port, target: { host: "127.0.0.1", port: Number(b.dataAddr!.split(":")[1]) }, effects: kinds.effectsOf({ latencyMs: 50, seconds: 60 }) });
        await pointBalancerAt(b.id, `127.0.0.1:${port}`);
        expect(await engineAddr(b.id)).toBe(`127.0.0.1:${port}`);
        return pid;
      };
      const expectReleased = async (pid: number) => {
        const row = await h.m.db().replica.findUniqueOrThrow({ where: { id: b.id } });
        expect(row.faultAddr).toBeNull();
        expect(await engineAddr(b.id)).toBe(row.dataAddr);
        expect(proc.isFaultProxy(pid)).toBe(false);
        expect(await proc.liveProxyPid(files)).toBeNull();
      };
      const store = (await import("@/lib/faults/store")).faultStore();
      const first = await orphan();
      expect(await store.clear(b.id, "test")).toEqual([]); // no record to end, and still released
      await expectReleased(first);

      const second = await orphan();
      await h.m.controller().stop();
      forget("controller");
      await h.m.controller().start(); // the fault store's start releases it
      await expectReleased(second);
    });

    it("through the fault store: the proxy survives a controller restart and is adopted, a dead one is started again, one expired meanwhile is undone", async () => {
      const [, , c] = await sorted();
      const store = (await import("@/lib/faults/store")).faultStore();
      const restart = async (meanwhile?: () => Promise<void>) => {
        await h.m.controller().stop();
        forget("controller");
        await meanwhile?.();
        await h.m.controller().start(); // the fault store's start resumes (or undoes) its faults
      };
      const fault = await store.apply(c.id, "network-fault", { latencyMs: 200, seconds: 60 }, 60, "test");
      const stateOf = async () => (JSON.parse((await h.m.db().fault.findUniqueOrThrow({ where: { id: fault.id } })).state) as { changed: NetworkFaultState }).changed;
      const first = await stateOf();
      const addr = `${first.proxy.host}:${first.proxy.port}`;

      await restart();
      const adopted = await stateOf();
      expect(adopted.proxy.pid).toBe(first.proxy.pid);
      expect(await engineAddr(c.id)).toBe(addr);
      // traffic still goes through it: the answers from c take the fault's 200 ms
      const hits = await Promise.all(Array.from({ length: 12 }, () => get(e.listen)));
      const fromC = hits.filter((x) => x.replica === c.id);
      console.log(`${e.engine} after the restart: ${fromC.length} of 12 answered by ${c.id}, taking ${fromC.map((x) => x.at - x.sentAt).join(", ")} ms`);
      expect(fromC.length).toBeGreaterThan(0);
      expect(fromC.every((x) => x.at - x.sentAt >= 190)).toBe(true);

      // the proxy died while the panel was down: started again, on the recorded port
      await restart(async () => {
        process.kill(first.proxy.pid!, "SIGKILL");
        await waitFor("the proxy gone", async () => (await proc.liveProxyPid(proc.proxyFiles(c.id), first.proxy.port)) === null, 5000, 50);
      });
      const again = await stateOf();
      expect(again.proxy.port).toBe(first.proxy.port);
      expect(again.proxy.pid).not.toBe(first.proxy.pid);
      expect(await proc.liveProxyPid(proc.proxyFiles(c.id), again.proxy.port)).toBe(again.proxy.pid);
      expect(await engineAddr(c.id)).toBe(addr);

      // its time ran out while the panel was down: undone at start
      await restart(async () => {
        await h.m.db().fault.update({ where: { id: fault.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      });
      expect((await h.m.db().fault.findUniqueOrThrow({ where: { id: fault.id } })).endReason).toBe("expired");
      await expectUndone({ ...(await applyless(fault.id)), state: again }, c.id);
    });
  });
}
