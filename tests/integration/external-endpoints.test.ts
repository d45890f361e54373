/**
 * Issue 14, item 3: an external pool. Four loopback instances of the user's app
 * (tests/fixtures/user-app/server.mjs), started by this test, not by the panel; a service
 * `runtime: "external"` with three of them as endpoints, on HAProxy, nginx and builtin:
 *
 *   the three are balanced -> drain one: no request reaches it -> ready again ->
 *   PATCH the endpoints (one removed, the fourth added) under a steady request loop:
 *   the new one joins, the removed one leaves (and keeps running), 0 failed requests ->
 *   the app's own Stress reaches the endpoint's own address -> no lifecycle: restart,
 *   stop, remove and a PATCH of replicas answer 409.
 *
 * Listeners 18490-18492, endpoints 29800-29829 (docs/TESTING.md).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until, waitFor } from "../helpers/load";
import { throughToUserApp } from "../helpers/user-app-request";

const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");

const engines = [
  { engine: "haproxy" as const, listen: 18490, first: 29800, missing: hasBinary("haproxy") },
  { engine: "nginx" as const, listen: 18491, first: 29810, missing: hasBinary("nginx") },
  { engine: "builtin" as const, listen: 18492, first: 29820, missing: null },
];

/** One request through the balancer; a failed connection counts as status 0. */
const through = (port: number) => throughToUserApp(port).catch(() => ({ status: 0, port: "" }));

async function ports(listen: number, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await through(listen);
    if (r.status === 200) seen.add(r.port);
  }
  return seen;
}

/** The user's app on 127.0.0.1:port, answering its health check. */
async function startApp(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [APP], { env: { ...process.env, PORT: String(port) }, stdio: "ignore" });
  await waitFor(`the app on ${port} answers`, async () => (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => null))?.status === 200, 10_000, 50);
  return child;
}

for (const e of engines) {
  describe.skipIf(needs(`the ${e.engine} engine`, e.missing))(`an external pool on ${e.engine}`, () => {
    let h: ControllerHarness;
    let actions: typeof import("@/app/api/replicas/[id]/actions/route");
    let service: typeof import("@/app/api/services/[id]/route");
    const apps: ChildProcess[] = [];
    const addr = (i: number) => `127.0.0.1:${e.first + i}`;

    beforeAll(async () => {
      for (let i = 0; i < 4; i++) apps.push(await startApp(e.first + i));
      h = await startControllerHarness({
        engine: e.engine,
        listen: e.listen,
        // the process runtime is not used: nothing is started
        portRange: `${e.first + 5}-${e.first + 9}`,
        service: {
          name: "pool",
          runtime: "external",
          endpoints: [addr(0), addr(1), addr(2)],
          replicas: 3,
          actions: [
            { name: "Stress", method: "POST", path: "/api/stress", port: "data" },
            { name: "Clear", method: "POST", path: "/api/stress/clear", port: "data" },
          ],
          rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 }, drainTimeoutMs: 3000 }),
        },
      });
      actions = await import("@/app/api/replicas/[id]/actions/route");
      service = await import("@/app/api/services/[id]/route");
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      for (const a of apps) a.kill();
    }, 60_000);

    const act = async (replicaId: string, body: Record<string, unknown>) => {
      const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body }, { id: replicaId });
      return { status: res.status, json: (await res.json()) as { result?: { status: number; body: string }; error?: { message: string } } };
    };
    const byAddr = async (a: string) => (await h.replicas()).find((r) => r.dataAddr === a);

    it("balances the three endpoints; a drained one gets no traffic", async () => {
      const rows = await h.ready();
      expect(rows.map((r) => r.dataAddr).sort()).toEqual([addr(0), addr(1), addr(2)]);
      // stable, readable ids: e<host>p<port><tag>
      expect(rows.map((r) => r.id).every((id) => /^e127001p298[0-9]{2}[a-z0-9]{4}$/.test(id))).toBe(true);
      await until("all three answer", () => ports(e.listen, 12), (s) => s.size === 3, 15_000, 100);
      const one = (await byAddr(addr(1)))!;
      expect((await act(one.id, { action: "drain" })).status).toBe(200);
      const after = await until("no request reaches the drained endpoint", () => ports(e.listen, 20), (s) => !s.has(String(e.first + 1)) && s.size === 2, 15_000, 100);
      expect([...after].sort()).toEqual([String(e.first), String(e.first + 2)]);
      expect((await act(one.id, { action: "ready" })).status).toBe(200);
      await until("it serves again", () => ports(e.listen, 12), (s) => s.size === 3, 15_000, 100);
    }, 60_000);

    it("an edited list is followed without a failed request: one added, one removed and left running", async () => {
      let stop = false;
      let sent = 0;
      const failed: number[] = [];
      const loop = (async () => {
        while (!stop) {
          const r = await through(e.listen);
          sent++;
          if (r.status !== 200) failed.push(r.status);
        }
      })();
      const res = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { endpoints: [addr(1), addr(2), addr(3)] } }, { id: h.serviceId });
      expect(res.status, await res.clone().text()).toBe(200);
      const startedAt = Date.now();
      await waitFor("the fourth endpoint in rotation and the first one gone", async () => {
        const rows = await h.replicas();
        const ready = rows.filter((r) => r.state === "ready" && r.inEngine).map((r) => r.dataAddr);
        return rows.length === 3 && ready.includes(addr(3)) && !rows.some((r) => r.dataAddr === addr(0));
      }, 30_000, 100);
      const followedMs = Date.now() - startedAt;
      const seen = await until("traffic reaches the new endpoint and not the removed one", () => ports(e.listen, 20), (s) => s.has(String(e.first + 3)) && !s.has(String(e.first)), 15_000, 100);
      stop = true;
      await loop;
      expect([...seen].sort()).toEqual([String(e.first + 1), String(e.first + 2), String(e.first + 3)]);
      expect(failed).toEqual([]);
      // the removed endpoint was let go of, not stopped
      expect((await fetch(`http://${addr(0)}/api/health`)).status).toBe(200);
      console.log(`[external ${e.engine}] endpoints edited: followed in ${followedMs} ms; ${sent} requests during the change, ${failed.length} failed`);
    }, 60_000);

    it("an endpoint that does not answer yet stays out of rotation and joins once it does; only an admin may change the list", async () => {
      const late = e.first + 4;
      const res = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { endpoints: [addr(1), addr(2), addr(3), addr(4)] } }, { id: h.serviceId });
      expect(res.status).toBe(200);
      const row = await waitFor("a row for the silent endpoint", () => byAddr(addr(4)), 10_000, 100);
      expect(row.inEngine).toBe(false);
      expect([...(await ports(e.listen, 12))].includes(String(late))).toBe(false);
      apps.push(await startApp(late));
      await until("the late endpoint answers through the balancer", () => ports(e.listen, 16), (s) => s.has(String(late)), 20_000, 100);
      await expect(h.m.updateService(h.serviceId, { endpoints: [addr(1)] }, { username: "op", role: "operator" })).rejects.toThrow(/only an admin/);
      const back = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { endpoints: [addr(1), addr(2), addr(3)] } }, { id: h.serviceId });
      expect(back.status).toBe(200);
      await waitFor("the late endpoint drained out again", async () => !(await byAddr(addr(4))), 20_000, 100);
    }, 60_000);

    it("the app's own action reaches the endpoint's own address; no lifecycle (409)", async () => {
      const two = (await byAddr(addr(2)))!;
      const stress = await act(two.id, { action: "custom", name: "Stress" });
      expect(stress.status, JSON.stringify(stress.json)).toBe(200);
      expect(stress.json.result?.body).toContain(`"port":${e.first + 2}`);
      expect((await fetch(`http://${addr(2)}/api/health`)).status).toBe(503);
      await until("the stressed endpoint leaves rotation", () => ports(e.listen, 20), (s) => !s.has(String(e.first + 2)), 15_000, 100);
      expect((await act(two.id, { action: "custom", name: "Clear" })).json.result?.body).toContain('"stressed":false');
      for (const action of ["restart", "stop", "remove"]) {
        const r = await act(two.id, { action });
        expect(r.status, action).toBe(409);
        expect(r.json.error?.message).toContain("external endpoint");
      }
      const scale = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { replicas: 5 } }, { id: h.serviceId });
      expect(scale.status).toBe(409);
      const bad = await h.api(service.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body: { endpoints: ["http://127.0.0.1:1/"] } }, { id: h.serviceId });
      expect(bad.status).toBe(400);
    }, 60_000);
  });
}
