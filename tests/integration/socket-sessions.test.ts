/**
 * An open socket stops when its session ends (issue 10, Medium 9: a socket kept
 * streaming events after sign-out, expiry or a password change). attachRealtime on a
 * loopback port, real socket.io-client connections, sessions ended the ways the panel
 * ends them: the sign-out route, an admin changing a password or a role, deleting the
 * user, and a session that expires (found by the periodic check, shortened here).
 */
import crypto from "node:crypto";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRealtime, type RealtimeServer } from "@/tests/helpers/realtime-server";
import { routeRequest } from "@/tests/helpers/route-request";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const CHECK_MS = 300;

let database: TempDatabase | undefined;
let live: RealtimeServer | undefined;
let base = "";
const opened: Socket[] = [];

let m: {
  db: typeof import("@/lib/db/client").db;
  sessions: typeof import("@/lib/auth/sessions");
  users: typeof import("@/lib/services/manage-users");
  logout: typeof import("@/app/api/auth/logout/route");
  events: typeof import("@/lib/events");
};

beforeAll(async () => {
  database = await openTempDatabase("socket-sessions");
  m = {
    db: (await import("@/lib/db/client")).db,
    sessions: await import("@/lib/auth/sessions"),
    users: await import("@/lib/services/manage-users"),
    logout: await import("@/app/api/auth/logout/route"),
    events: await import("@/lib/events"),
  };
  live = await startRealtime({ sessionCheckMs: CHECK_MS });
  base = live.base;
});

afterAll(async () => {
  for (const s of opened) s.close();
  await live?.close();
  await database?.close();
});

type Live = { socket: Socket; token: string; received: string[]; ended: Promise<{ reason: string; afterMs: number }>; markEnd(): void };

/** A signed-in socket that records the events it receives and resolves `ended` when the server closes it. */
async function liveSocket(userId: string): Promise<Live> {
  const { token } = await m.sessions.createSession(userId);
  const socket = connect(base, { transports: ["websocket"], extraHeaders: { cookie: `${m.sessions.SESSION_COOKIE}=${token}`, origin: base }, reconnection: false, forceNew: true });
  opened.push(socket);
  const received: string[] = [];
  socket.on("event", (e: { message: string }) => received.push(e.message));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  let from = performance.now();
  const ended = new Promise<{ reason: string; afterMs: number }>((resolve) => socket.once("disconnect", (reason) => resolve({ reason, afterMs: performance.now() - from })));
  return { socket, token, received, ended, markEnd: () => (from = performance.now()) };
}

const within = <T,>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

const stillOpen = async (live: Live) => {
  await m.events.recordEvent({ kind: "test.ping", actor: "test", message: `ping ${crypto.randomUUID()}` });
  await new Promise((r) => setTimeout(r, 100));
  return live.socket.connected && live.received.length > 0;
};

async function user(name: string) {
  return m.db().user.create({ data: { username: name, passwordHash: "x", role: "operator" } });
}

describe("sockets end with their session", () => {
  it("sign-out closes that session's socket at once; the same user's other session keeps streaming", async () => {
    const u = await user("signs-out");
    const a = await liveSocket(u.id);
    const b = await liveSocket(u.id);
    a.markEnd();
    const res = await m.logout.POST(routeRequest("/api/auth/logout", { method: "POST", cookie: `${m.sessions.SESSION_COOKIE}=${a.token}` }), { params: Promise.resolve({}) });
    expect(res.status).toBe(200);
    const end = await within(a.ended, 2000, "the signed-out socket closing");
    expect(end.reason).toBe("io server disconnect");
    console.log(`sign-out: the socket closed ${end.afterMs.toFixed(0)} ms after the request`);
    const before = a.received.length;
    expect(await stillOpen(b)).toBe(true);
    expect(a.received.length).toBe(before); // nothing more reaches the closed one
  });

  it("a password change or a role change by an admin closes every socket of that user", async () => {
    const admin = { id: "admin", username: "admin", role: "admin" as const, sessionId: "-" };
    const u = await user("changes");
    const [a, b] = [await liveSocket(u.id), await liveSocket(u.id)];
    await m.users.updateUser(u.id, { password: "a brand new password" }, admin);
    expect((await within(a.ended, 2000, "socket 1 after a password change")).reason).toBe("io server disconnect");
    expect((await within(b.ended, 2000, "socket 2 after a password change")).reason).toBe("io server disconnect");
    const c = await liveSocket(u.id);
    await m.users.updateUser(u.id, { role: "viewer" }, admin);
    expect((await within(c.ended, 2000, "the socket after a role change")).reason).toBe("io server disconnect");
  });

  it("deleting the user closes their sockets", async () => {
    const u = await user("deleted");
    const a = await liveSocket(u.id);
    await m.users.deleteUser(u.id, { id: "admin", username: "admin", role: "admin", sessionId: "-" });
    expect((await within(a.ended, 2000, "the deleted user's socket")).reason).toBe("io server disconnect");
  });

  it(`an expired session's socket is closed by the periodic check (every ${CHECK_MS} ms here, 10 s in the panel)`, async () => {
    const u = await user("expires");
    const a = await liveSocket(u.id);
    const other = await liveSocket(u.id);
    const id = crypto.createHash("sha256").update(a.token).digest("hex");
    a.markEnd();
    await m.db().session.update({ where: { id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const end = await within(a.ended, CHECK_MS * 4 + 1000, "the expired session's socket");
    expect(end.reason).toBe("io server disconnect");
    console.log(`expiry: the socket closed ${end.afterMs.toFixed(0)} ms after its session expired`);
    expect(await stillOpen(other)).toBe(true);
  });
});
