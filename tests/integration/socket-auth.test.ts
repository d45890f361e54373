/**
 * socket.io on the panel's port only accepts a valid session from the panel's own
 * origin: an http server with attachRealtime on a random loopback port, and real
 * socket.io-client connections (both transports) against it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

let database: TempDatabase | undefined;
let server: http.Server;
let closeIo: () => Promise<void> = async () => undefined;
let base = "";
let cookie = "";
let userId = "";
const opened: Socket[] = [];

type Outcome = { connected: true; socket: Socket } | { connected: false; error: string };

/** Connect and report whether the handshake was accepted (never retries). */
function tryConnect(opts: { cookie?: string; origin?: string | null; transport: "websocket" | "polling" }): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  const origin = opts.origin === undefined ? base : opts.origin;
  if (origin !== null) headers.origin = origin;
  const socket = connect(base, {
    path: "/socket.io",
    transports: [opts.transport],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
    timeout: 5000,
  });
  opened.push(socket);
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true, socket }));
    socket.once("connect_error", (err: Error) => {
      socket.close();
      resolve({ connected: false, error: err.message });
    });
  });
}

beforeAll(async () => {
  forget("realtime");
  database = await openTempDatabase("socket");

  const { db } = await import("@/lib/db/client");
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  const user = await db().user.create({ data: { username: "socket-viewer", passwordHash: "x", role: "viewer" } });
  userId = user.id;
  cookie = `${SESSION_COOKIE}=${(await createSession(user.id)).token}`;

  const { attachRealtime } = await import("@/lib/realtime/server");
  server = http.createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const io = attachRealtime(server, { allowedOrigins: [] });
  closeIo = () => new Promise((resolve) => io.close(() => resolve()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of opened) s.close();
  await closeIo(); // also closes the http server
  forget("realtime");
  await database?.close();
});

describe.each(["websocket", "polling"] as const)("socket.io handshake (%s)", (transport) => {
  it("refuses a connection without a session cookie: unauthorized", async () => {
    const r = await tryConnect({ transport });
    expect(r.connected).toBe(false);
    if (!r.connected) expect(r.error).toMatch(/^unauthorized/);
  });

  it("refuses an unknown session token: unauthorized", async () => {
    const r = await tryConnect({ transport, cookie: "sy_session=not-a-real-token" });
    expect(r.connected).toBe(false);
    if (!r.connected) expect(r.error).toMatch(/^unauthorized/);
  });

  it("accepts a valid session from the same origin, and the socket can watch a service", async () => {
    const r = await tryConnect({ transport, cookie });
    expect(r.connected).toBe(true);
    if (r.connected) {
      const ack = await r.socket.timeout(5000).emitWithAck("watch", { serviceId: "demo" });
      expect(ack).toMatchObject({ ok: true });
      const bad = await r.socket.timeout(5000).emitWithAck("watch", { serviceId: "../etc" });
      expect(bad).toMatchObject({ error: expect.any(String) });
      r.socket.close();
    }
  });

  it("refuses a valid session from another origin: forbidden", async () => {
    const r = await tryConnect({ transport, cookie, origin: "http://evil.example" });
    expect(r.connected).toBe(false);
    if (!r.connected) expect(r.error).toMatch(/^forbidden/);
  });

  it("refuses a valid session without an Origin header", async () => {
    const r = await tryConnect({ transport, cookie, origin: null });
    expect(r.connected).toBe(false);
    if (!r.connected) expect(r.error).toMatch(/^forbidden/);
  });
});

describe("socket.io handshake and session lifetime", () => {
  it("refuses an expired session", async () => {
    const { db } = await import("@/lib/db/client");
    const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
    const { token } = await createSession(userId);
    const crypto = await import("node:crypto");
    const id = crypto.createHash("sha256").update(token).digest("hex");
    await db().session.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const r = await tryConnect({ transport: "websocket", cookie: `${SESSION_COOKIE}=${token}` });
    expect(r.connected).toBe(false);
    if (!r.connected) expect(r.error).toMatch(/^unauthorized/);
  });

  it("refuses a session that was ended (signed out)", async () => {
    const { createSession, endSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
    const { token } = await createSession(userId);
    const before = await tryConnect({ transport: "websocket", cookie: `${SESSION_COOKIE}=${token}` });
    expect(before.connected).toBe(true);
    if (before.connected) before.socket.close();
    await endSession(token);
    const after = await tryConnect({ transport: "websocket", cookie: `${SESSION_COOKIE}=${token}` });
    expect(after.connected).toBe(false);
  });
});
