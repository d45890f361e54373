/**
 * POST /api/routes/try against a real SQLite database (issue 13): which route and
 * service a URL reaches with the services' saved routes, the path the replica gets,
 * and what else would have taken it; a viewer may ask (it changes nothing); a stored
 * old single route (rules.route) takes part as one route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
let database: TempDatabase | undefined;
let cookie = "";
let route: typeof import("@/app/api/routes/try/route");

const ask = async (body: unknown) => {
  const res = await route.POST(new Request(`${ORIGIN}/api/routes/try`, { method: "POST", headers: { host: "127.0.0.1:3999", origin: ORIGIN, cookie, "content-type": "application/json" }, body: JSON.stringify(body) }));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  database = await openTempDatabase("routes-try-api");
  const { db } = await import("@/lib/db/client");
  route = await import("@/app/api/routes/try/route");
  const viewer = await db().user.create({ data: { username: "try-viewer", passwordHash: "x", role: "viewer" } });
  cookie = `sy_session=${(await (await import("@/lib/auth/sessions")).createSession(viewer.id)).token}`;
  const svc = (name: string, rules: object) => db().service.create({ data: { name, runtime: "process", adminToken: "t", rules: JSON.stringify(rules) } });
  await svc("notifications", { routes: [{ path: "/api/notifications", stripPrefix: true }, { path: "/ws" }] });
  await svc("frontend", { routes: [{ path: "/", priority: 1 }] });
  // a row written by an older version: one route, as rules.route
  await svc("site", { route: { host: "tictactoe.local", pathPrefix: "/", stripPrefix: false, priority: 0 } });
});

afterAll(async () => {
  await database?.close();
});

describe("POST /api/routes/try", () => {
  it("names the route, the service and the path the replica gets, and the routes tried after it", async () => {
    const r = await ask({ url: "http://gw.local:8080/api/notifications/7?x=1" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      host: "gw.local",
      path: "/api/notifications/7",
      reached: { service: "notifications", route: 1, describes: "any host /api/notifications", upstreamPath: "/7?x=1", stripPrefix: true },
    });
    expect((r.body.candidates as { service: string }[]).map((c) => c.service)).toEqual(["notifications", "frontend"]);
  });

  it("keeps the WebSocket route unstripped, sends the rest to the last-resort catch-all, and honours an old single route", async () => {
    expect((await ask({ url: "gw.local/ws" })).body.reached).toMatchObject({ service: "notifications", route: 2, upstreamPath: "/ws" });
    expect((await ask({ url: "/anything" })).body.reached).toMatchObject({ service: "frontend", priority: 1 });
    expect((await ask({ url: "http://TicTacToe.Local/api/notifications" })).body.reached).toMatchObject({ service: "site" });
  });

  it("refuses what is not an http(s) URL, and a listener name that cannot be one", async () => {
    expect((await ask({ url: "ftp://x/" })).status).toBe(400);
    expect((await ask({ url: "" })).status).toBe(400);
    expect((await ask({ url: "/", listener: "Bad Name" })).status).toBe(400);
    expect((await ask({ url: "/", extra: 1 })).status).toBe(400);
  });
});
