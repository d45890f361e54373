/**
 * Issue 14, items 1 and 4, seed 001's scenario with a user's own app: a few lines of plain
 * node:http (tests/fixtures/user-app/server.mjs) that know nothing of the replica protocol,
 * run as a process service with its own data port, health path (/api/health), expected
 * status and environment, and the service actions Stress (POST /api/stress) and Clear
 * (POST /api/stress/clear, confirm). On HAProxy, nginx and builtin, through the API route:
 *
 *   press Stress on instance 1 -> its /api/health answers 503 -> it leaves rotation ->
 *   10 of 10 requests through the balancer reach instance 2 -> a write succeeds ->
 *   press Clear on the isolated instance (straight to its own port, never through the
 *   balancer) -> it returns to rotation.
 *
 * Also: the action is audited as a replica.action event; a viewer gets 403; an unknown
 * action name is 404. Deadlines, no fixed sleeps; the figures are printed.
 *
 * Listeners 18450-18452, replicas 28400-28549 (docs/TESTING.md).
 */
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import type { ServiceAction } from "@/lib/core/service";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { until } from "../helpers/load";
import { readableCopy } from "../helpers/readable-copy";

const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");

const engines = [
  { engine: "haproxy" as const, listen: 18450, range: "28400-28449", missing: hasBinary("haproxy") },
  { engine: "nginx" as const, listen: 18451, range: "28450-28499", missing: hasBinary("nginx") },
  { engine: "builtin" as const, listen: 18452, range: "28500-28549", missing: null },
];

export const USER_APP_ACTIONS: ServiceAction[] = [
  { name: "Stress", method: "POST", path: "/api/stress", port: "data" },
  { name: "Clear", method: "POST", path: "/api/stress/clear", port: "data", confirm: true },
];

type Answer = { status: number; json: { by?: string; saved?: number } };

/** One request through the balancer on a new connection; the app names itself as host:port in `by`. */
function through(port: number, method = "GET", urlPath = "/", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent: false, timeout: 5000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let json: Answer["json"] = {};
        try {
          json = JSON.parse(text) as Answer["json"];
        } catch {
          // an engine's own error page: no `by`
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

const portOf = (answer: Answer) => (answer.json.by ?? "").split(":").pop() ?? "";

for (const e of engines) {
  describe.skipIf(needs(`the ${e.engine} engine`, e.missing))(`a user's own app on ${e.engine}: its Stress and Clear per instance`, () => {
    let h: ControllerHarness;
    let actions: typeof import("@/app/api/replicas/[id]/actions/route");

    beforeAll(async () => {
      // the replica user must be able to read it, wherever the clone is
      const app = await readableCopy(APP);
      h = await startControllerHarness({
        engine: e.engine,
        listen: e.listen,
        portRange: e.range,
        service: {
          name: "todo",
          command: [process.execPath, app],
          env: { TODO_GREETING: "hello" },
          replicas: 2,
          actions: USER_APP_ACTIONS,
          rules: rulesSchema.parse({ healthCheck: { path: "/api/health", expectStatus: 200, intervalMs: 300, fall: 2, rise: 2 } }),
        },
      });
      actions = await import("@/app/api/replicas/[id]/actions/route");
    }, 120_000);

    afterAll(async () => {
      await h?.close();
    }, 60_000);

    const press = async (replicaId: string, name: string, cookie?: string | null) => {
      const res = await h.api(actions.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body: { action: "custom", name }, cookie }, { id: replicaId });
      return { status: res.status, json: (await res.json()) as { result?: { status: number; body: string; ok: boolean }; error?: { code: string; message: string } } };
    };

    it("Stress on instance 1 takes it out of rotation, 10 of 10 reach instance 2, a write succeeds, Clear on the isolated instance brings it back", async () => {
      const [one, two] = await h.ready(); // in the order they were created
      const port1 = one.dataAddr!.split(":")[1];
      const port2 = two.dataAddr!.split(":")[1];
      // both serve before the stress
      const before = await until("both instances answer through the balancer", async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) seen.add(portOf(await through(e.listen)));
        return seen;
      }, (seen) => seen.has(port1) && seen.has(port2), 15_000, 100);
      expect(before.size).toBe(2);

      const stressedAt = Date.now();
      const stress = await press(one.id, "Stress");
      expect(stress.status, JSON.stringify(stress.json)).toBe(200);
      expect(stress.json.result?.status).toBe(200);
      expect(stress.json.result?.body).toContain('"stressed":true');
      // the app's own health says so, on its own port
      expect((await fetch(`http://${one.dataAddr}/api/health`)).status).toBe(503);

      const tenOfTen = await until("10 of 10 requests through the balancer reach instance 2", async () => {
        const hits: Answer[] = [];
        for (let i = 0; i < 10; i++) hits.push(await through(e.listen));
        return hits;
      }, (hits) => hits.every((x) => x.status === 200 && portOf(x) === port2), 15_000, 100);
      const leftMs = Date.now() - stressedAt;
      expect(tenOfTen.filter((x) => portOf(x) === port2)).toHaveLength(10);
      // and again, fresh: the isolation holds
      const again: Answer[] = [];
      for (let i = 0; i < 10; i++) again.push(await through(e.listen));
      const toTwo = again.filter((x) => x.status === 200 && portOf(x) === port2).length;
      expect(toTwo).toBe(10);

      const write = await through(e.listen, "POST", "/api/todos", "buy milk");
      expect(write.status).toBe(201);
      expect(portOf(write)).toBe(port2);

      // Clear goes straight to instance 1's own port: through the balancer it would land on instance 2
      const clearedAt = Date.now();
      const clear = await press(one.id, "Clear");
      expect(clear.status, JSON.stringify(clear.json)).toBe(200);
      expect(clear.json.result?.body).toContain('"stressed":false');
      expect(clear.json.result?.body).toContain(`"port":${port1}`);
      await until("instance 1 answers through the balancer again", async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 10; i++) seen.add(portOf(await through(e.listen)));
        return seen;
      }, (seen) => seen.has(port1), 15_000, 100);
      const backMs = Date.now() - clearedAt;
      console.log(`[user-app ${e.engine}] Stress on ${one.id}: out of rotation after ${leftMs} ms; ${toTwo} of 10 requests reached ${two.id}; write HTTP ${write.status} on ${two.id}; Clear on the isolated instance: back in rotation after ${backMs} ms`);

      const events = await h.m.db().event.findMany({ where: { kind: "replica.action", replicaId: one.id }, orderBy: { id: "asc" } });
      expect(events.map((x) => x.message).join("\n")).toMatch(/action "Stress" on replica .* \(POST \/api\/stress on its data port: HTTP 200\)/);
      expect(events.map((x) => x.message).join("\n")).toMatch(/action "Clear" on replica .* \(POST \/api\/stress\/clear on its data port: HTTP 200\)/);
    }, 90_000);

    it("a viewer gets 403 and the app is not touched; an unknown action is 404; without a session 401; the service view carries the actions", async () => {
      const [one] = await h.ready();
      const viewer = await h.m.db().user.create({ data: { username: `viewer-${e.engine}`, passwordHash: "-", role: "viewer" } });
      const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
      const session = await createSession(viewer.id);
      const refused = await press(one.id, "Stress", `${SESSION_COOKIE}=${session.token}`);
      expect(refused.status).toBe(403);
      expect((await fetch(`http://${one.dataAddr}/api/health`)).status).toBe(200);
      const unknown = await press(one.id, "Nope");
      expect(unknown.status).toBe(404);
      expect(unknown.json.error?.message).toContain('no action named "Nope"');
      expect((await press(one.id, "Stress", null)).status).toBe(401);
      const view = await h.m.getService(h.serviceId);
      expect(view.actions.map((a) => `${a.name} ${a.method} ${a.path} ${a.port}`)).toEqual(["Stress POST /api/stress data", "Clear POST /api/stress/clear data"]);
    });

    it("PATCH changes the actions (a hostile path is refused); a viewer's view carries them without bodies", async () => {
      const services = await import("@/app/api/services/[id]/route");
      const patch = (body: unknown) => h.api(services.PATCH, `/api/services/${h.serviceId}`, { method: "PATCH", body }, { id: h.serviceId });
      const hostile = await patch({ actions: [...USER_APP_ACTIONS, { name: "Evil", method: "POST", path: "//evil.example/x" }] });
      expect(hostile.status).toBe(400);
      const withNote = [...USER_APP_ACTIONS, { name: "Note", method: "POST" as const, path: "/api/todos", port: "data" as const, body: "secret note" }];
      expect((await patch({ actions: withNote })).status).toBe(200);
      const view = await h.m.getService(h.serviceId);
      expect(view.actions.map((a) => a.name)).toEqual(["Stress", "Clear", "Note"]);
      expect(view.actions[2].body).toBe("secret note");
      const { serviceViewFor } = await import("@/lib/services/views");
      expect(JSON.stringify(serviceViewFor("viewer", view).actions)).not.toContain("secret note");
      // the new action works at once, on the instance itself
      const [one] = await h.ready();
      const note = await press(one.id, "Note");
      expect(note.json.result?.status).toBe(201);
      expect((await patch({ actions: USER_APP_ACTIONS })).status).toBe(200);
    });
  });
}
