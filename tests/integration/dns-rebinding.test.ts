/**
 * DNS rebinding (issue 10, High 4): a page on attacker.example whose name is re-pointed
 * at the panel sends `Host: attacker.example:PORT` with a matching Origin. Before the
 * fix, setup and sign-in accepted it. Now every mutation (sign-in and setup included)
 * and the socket.io handshake refuse a Host that is not one of the panel's names.
 * Route handlers are called directly on a real SQLite database; the socket test runs
 * real socket.io-client connections against attachRealtime on a loopback port
 * (tests/helpers/realtime-server.ts).
 */
import http from "node:http";
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { startRealtime, type RealtimeServer } from "@/tests/helpers/realtime-server";
import { routeRequest } from "@/tests/helpers/route-request";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const PASSWORD = "correct horse battery";
const ATTACKER = "attacker.example:3310";

let database: TempDatabase | undefined;
let live: RealtimeServer | undefined;
let port = 0;

const post = (route: { POST: (req: Request) => Promise<Response> }, urlPath: string, host: string, json: unknown): Promise<Response> =>
  route.POST(routeRequest(urlPath, { method: "POST", host, json }));

function raw(method: string, path: string, host: string, cookie: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers: { host, origin: `http://${host}`, cookie, "content-type": "text/plain" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The engine.io polling handshake, then socket.io's CONNECT; returns the server's answer to CONNECT ("40…" or "44…" refused). */
async function pollingConnect(host: string, cookie: string): Promise<string> {
  const open = await raw("GET", "/socket.io/?EIO=4&transport=polling", host, cookie);
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  await raw("POST", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, host, cookie, "40");
  return raw("GET", `/socket.io/?EIO=4&transport=polling&sid=${sid}`, host, cookie);
}

beforeAll(async () => {
  database = await openTempDatabase("rebinding");
});

afterAll(async () => {
  await live?.close();
  await database?.close();
});

describe("DNS rebinding: Host must be one of the panel's names", () => {
  it("setup on a fresh panel: a foreign Host is refused with 421 and no admin is created", async () => {
    const setup = await import("@/app/api/auth/setup/route");
    const { db } = await import("@/lib/db/client");
    const res = await post(setup, "/api/auth/setup", ATTACKER, { username: "mallory", password: PASSWORD });
    expect(res.status).toBe(421);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("misdirected");
    expect(body.error.message).toMatch(/does not answer for the host "attacker\.example:3310".*PUBLIC_URL/);
    expect(await db().user.count()).toBe(0);

    // the panel's own names still work (the tests and the browser use 127.0.0.1 and localhost)
    const ok = await post(setup, "/api/auth/setup", "127.0.0.1:3999", { username: "admin", password: PASSWORD });
    expect(ok.status).toBe(201);
  });

  it("sign-in with a foreign Host is refused before the password is checked; localhost and IPs sign in", async () => {
    const login = await import("@/app/api/auth/login/route");
    const { db } = await import("@/lib/db/client");
    const before = await db().event.count({ where: { kind: { startsWith: "auth." } } });
    const res = await post(login, "/api/auth/login", ATTACKER, { username: "admin", password: PASSWORD });
    expect(res.status).toBe(421);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await db().event.count({ where: { kind: { startsWith: "auth." } } })).toBe(before);
    for (const host of ["localhost:3000", "[::1]:3000", "10.1.2.3:3000"]) {
      expect((await post(login, "/api/auth/login", host, { username: "admin", password: PASSWORD })).status, host).toBe(200);
    }
  });

  it("a signed-in mutation with a foreign Host is refused (421) even with the session cookie and a matching Origin", async () => {
    const logout = await import("@/app/api/auth/logout/route");
    const { db } = await import("@/lib/db/client");
    const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
    const admin = await db().user.findUniqueOrThrow({ where: { username: "admin" } });
    const { token } = await createSession(admin.id);
    const res = await logout.POST(routeRequest("/api/auth/logout", { method: "POST", host: ATTACKER, cookie: `${SESSION_COOKIE}=${token}` }));
    expect(res.status).toBe(421);
  });

  it("PUBLIC_URL names the panel behind a proxy: its host is accepted, others still are not", async () => {
    process.env.PUBLIC_URL = "https://panel.example.com";
    forget("env");
    try {
      const login = await import("@/app/api/auth/login/route");
      const req = (host: string, origin: string) =>
        login.POST(routeRequest("/api/auth/login", { method: "POST", host, headers: { origin }, json: { username: "admin", password: PASSWORD } }));
      const ok = await req("panel.example.com", "https://panel.example.com");
      expect(ok.status).toBe(200);
      // the browser is on https (PUBLIC_URL says so; the proxy in front terminates TLS): the cookie is Secure
      expect(ok.headers.get("set-cookie")).toMatch(/; Secure/);
      expect((await req(ATTACKER, `http://${ATTACKER}`)).status).toBe(421);
    } finally {
      delete process.env.PUBLIC_URL;
      forget("env");
    }
  });

  it("the socket.io handshake refuses a foreign Host with a valid session and matching Origin (both transports)", async () => {
    const { db } = await import("@/lib/db/client");
    const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
    const admin = await db().user.findUniqueOrThrow({ where: { username: "admin" } });
    const cookie = `${SESSION_COOKIE}=${(await createSession(admin.id)).token}`;
    live = await startRealtime();
    port = live.port;

    const attempt = (transport: "websocket" | "polling", host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(`http://127.0.0.1:${port}`, {
          transports: [transport],
          extraHeaders: { host, origin: `http://${host}`, cookie },
          reconnection: false,
          forceNew: true,
          timeout: 5000,
        });
        socket.once("connect", () => {
          socket.close();
          resolve("connected");
        });
        socket.once("connect_error", (err: Error) => {
          socket.close();
          resolve(err.message);
        });
      });
    // socket.io-client sends our Host over websocket; its polling transport (XMLHttpRequest) does not let a
    // caller set Host, so polling is spoken by hand below
    expect(await attempt("websocket", `attacker.example:${port}`)).toMatch(/^forbidden: this panel does not answer for the host/);
    expect(await attempt("websocket", `localhost:${port}`)).toBe("connected");
    expect(await attempt("websocket", `127.0.0.1:${port}`)).toBe("connected");
    expect(await attempt("polling", `127.0.0.1:${port}`)).toBe("connected");
    expect(await pollingConnect(`attacker.example:${port}`, cookie)).toMatch(/^44.*forbidden: this panel does not answer for the host/);
    expect(await pollingConnect(`localhost:${port}`, cookie)).toMatch(/^40/);
  });
});
