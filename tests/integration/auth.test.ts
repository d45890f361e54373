/**
 * Sign-in, sessions and user management against a real SQLite database: the use
 * cases in lib/services and the route handlers that wrap them (called directly).
 * The tests in this file run in order and share one database.
 */
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
const PASSWORD = "correct horse battery";

let database: TempDatabase | undefined;

// Loaded after process.env points at the temporary database (lib/env.ts reads it once).
let m: {
  db: typeof import("@/lib/db/client").db;
  sessions: typeof import("@/lib/auth/sessions");
  firstAdmin: typeof import("@/lib/services/create-first-admin");
  signIn: typeof import("@/lib/services/sign-in").signIn;
  users: typeof import("@/lib/services/manage-users");
  login: typeof import("@/app/api/auth/login/route");
  logout: typeof import("@/app/api/auth/logout/route");
  me: typeof import("@/app/api/auth/me/route");
  setup: typeof import("@/app/api/auth/setup/route");
  usersRoute: typeof import("@/app/api/users/route");
  userRoute: typeof import("@/app/api/users/[id]/route");
  AppError: typeof import("@/lib/core/errors").AppError;
};

beforeAll(async () => {
  database = await openTempDatabase("auth");
  m = {
    db: (await import("@/lib/db/client")).db,
    sessions: await import("@/lib/auth/sessions"),
    firstAdmin: await import("@/lib/services/create-first-admin"),
    signIn: (await import("@/lib/services/sign-in")).signIn,
    users: await import("@/lib/services/manage-users"),
    login: await import("@/app/api/auth/login/route"),
    logout: await import("@/app/api/auth/logout/route"),
    me: await import("@/app/api/auth/me/route"),
    setup: await import("@/app/api/auth/setup/route"),
    usersRoute: await import("@/app/api/users/route"),
    userRoute: await import("@/app/api/users/[id]/route"),
    AppError: (await import("@/lib/core/errors")).AppError,
  };
});

afterAll(async () => {
  await database?.close();
});

function req(urlPath: string, init: { method?: string; body?: unknown; cookie?: string; ip?: string } = {}): Request {
  const headers: Record<string, string> = { host: "127.0.0.1:3999", origin: ORIGIN, "x-switchyard-remote": init.ip ?? "127.0.0.1" };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return new Request(`${ORIGIN}${urlPath}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}
const ctx = (params: Record<string, string> = {}) => ({ params: Promise.resolve(params) });
const cookieOf = (token: string) => `sy_session=${token}`;
const sessionId = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

async function events(kind: string) {
  return m.db().event.findMany({ where: { kind }, orderBy: { id: "asc" } });
}

async function loginRoute(username: string, password: string, ip: string): Promise<Response> {
  return m.login.POST(req("/api/auth/login", { method: "POST", body: { username, password }, ip }));
}

let admin: { id: string; username: string };

describe("first admin", () => {
  it("five concurrent setups create exactly one admin", async () => {
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((i) => m.firstAdmin.createFirstAdmin({ username: `admin${i}`, password: PASSWORD })),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(4);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(m.AppError);
      expect(f.reason.code).toBe("conflict");
    }
    expect(await m.db().user.count()).toBe(1);
    expect(await m.db().user.count({ where: { role: "admin" } })).toBe(1);
    admin = (ok[0] as PromiseFulfilledResult<{ id: string; username: string }>).value;
    expect((await events("user.created")).map((e) => e.message)).toEqual([`first admin ${admin.username} created`]);
  });

  it("the setup route answers 409 once an admin exists", async () => {
    const res = await m.setup.POST(req("/api/auth/setup", { method: "POST", body: { username: "latecomer", password: PASSWORD } }), ctx());
    expect(res.status).toBe(409);
    expect(await m.db().user.findUnique({ where: { username: "latecomer" } })).toBeNull();
  });
});

describe("sign-in", () => {
  it("signs in through the route, sets an HttpOnly cookie and records auth.signin", async () => {
    const res = await loginRoute(admin.username, PASSWORD, "10.0.0.1");
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^sy_session=[A-Za-z0-9_-]{20,};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    const token = setCookie.split(";")[0].slice("sy_session=".length);
    const me = await m.me.GET(req("/api/auth/me", { cookie: cookieOf(token) }), ctx());
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: { id: admin.id, username: admin.username, role: "admin" } });
    const signins = await events("auth.signin");
    expect(signins.at(-1)).toMatchObject({ actor: admin.username, level: "info" });
    expect(JSON.parse(signins.at(-1)!.data ?? "{}")).toEqual({ ip: "10.0.0.1" });
  });

  it("a wrong password is a 401 and an auth.failed event; an unknown user looks the same", async () => {
    const before = (await events("auth.failed")).length;
    const wrong = await loginRoute(admin.username, "not the password", "10.0.0.2");
    const unknown = await loginRoute("nobody-here", "not the password", "10.0.0.2");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).error.message).toBe((await unknown.json()).error.message);
    const failed = await events("auth.failed");
    expect(failed).toHaveLength(before + 2);
    expect(failed.at(-2)).toMatchObject({ actor: admin.username, level: "warn" });
    // a success clears the failures of that user and address
    expect((await loginRoute(admin.username, PASSWORD, "10.0.0.2")).status).toBe(200);
  });

  it("throttles a name from an address after 5 failures: 429 with Retry-After, even with the right password", async () => {
    await m.users.createUser({ username: "target", password: PASSWORD, role: "viewer" }, { ...admin, role: "admin", sessionId: "-" });
    const ip = "10.0.0.3";
    for (let i = 0; i < 5; i++) expect((await loginRoute("target", "wrong password", ip)).status).toBe(401);

    const blocked = await loginRoute("target", PASSWORD, ip);
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect((await blocked.json()).error.code).toBe("too_many_requests");

    // the use case says the same, with the wait in seconds
    await expect(m.signIn({ username: "target", password: PASSWORD, ip })).rejects.toMatchObject({
      code: "too_many_requests",
      details: { retryAfterS: expect.any(Number) },
    });
    // only that name from that address: the user signs in from elsewhere, others from the same address
    // (tests/integration/sign-in-throttle.test.ts covers the per-address ceiling and the events)
    expect((await loginRoute("target", PASSWORD, "10.0.0.4")).status).toBe(200);
    expect((await loginRoute(admin.username, PASSWORD, ip)).status).toBe(200);

    const throttled = await events("auth.throttled");
    expect(throttled).toHaveLength(1); // two refusals from one address within a minute: one event with a count
    expect(throttled.at(-1)).toMatchObject({ level: "warn" });
  });
});

describe("sessions", () => {
  it("an expired session is refused (401) and removed", async () => {
    const { token } = await m.sessions.createSession(admin.id);
    expect(await m.sessions.userFromToken(token)).toMatchObject({ id: admin.id });
    await m.db().session.update({ where: { id: sessionId(token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await m.me.GET(req("/api/auth/me", { cookie: cookieOf(token) }), ctx());
    expect(res.status).toBe(401);
    expect(await m.sessions.userFromToken(token)).toBeNull();
    expect(await m.db().session.findUnique({ where: { id: sessionId(token) } })).toBeNull();
  });

  it("logout ends the session and clears the cookie; other sessions of the user stay", async () => {
    const a = await m.sessions.createSession(admin.id);
    const b = await m.sessions.createSession(admin.id);
    const res = await m.logout.POST(req("/api/auth/logout", { method: "POST", cookie: cookieOf(a.token) }), ctx());
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/^sy_session=;.*Max-Age=0/);
    expect((await m.me.GET(req("/api/auth/me", { cookie: cookieOf(a.token) }), ctx())).status).toBe(401);
    expect((await m.me.GET(req("/api/auth/me", { cookie: cookieOf(b.token) }), ctx())).status).toBe(200);
    expect((await events("auth.signout")).at(-1)).toMatchObject({ actor: admin.username });
  });

  it("a password reset ends every session of that user, and only theirs", async () => {
    const target = await m.db().user.findUniqueOrThrow({ where: { username: "target" } });
    const t1 = await m.sessions.createSession(target.id);
    const t2 = await m.sessions.createSession(target.id);
    const adminSession = await m.sessions.createSession(admin.id);

    const res = await m.userRoute.PATCH(
      req(`/api/users/${target.id}`, { method: "PATCH", body: { password: "a brand new password" }, cookie: cookieOf(adminSession.token) }),
      ctx({ id: target.id }),
    );
    expect(res.status).toBe(200);
    expect(await m.sessions.userFromToken(t1.token)).toBeNull();
    expect(await m.sessions.userFromToken(t2.token)).toBeNull();
    expect(await m.sessions.userFromToken(adminSession.token)).toMatchObject({ id: admin.id });
    // the new password works (from an address that is not throttled)
    await m.db().loginAttempt.deleteMany({});
    expect((await loginRoute("target", "a brand new password", "10.0.0.6")).status).toBe(200);
    expect((await events("user.updated")).at(-1)!.message).toContain("password reset");
  });

  it("a role change ends the sessions of that user", async () => {
    const target = await m.db().user.findUniqueOrThrow({ where: { username: "target" } });
    const t = await m.sessions.createSession(target.id);
    const actor = { id: admin.id, username: admin.username, role: "admin" as const, sessionId: "-" };
    await m.users.updateUser(target.id, { role: "operator" }, actor);
    expect(await m.sessions.userFromToken(t.token)).toBeNull();
    expect((await events("user.updated")).at(-1)!.message).toContain("role viewer → operator");
  });
});

describe("user management", () => {
  const actor = () => ({ id: admin.id, username: admin.username, role: "admin" as const, sessionId: "-" });

  it("the last admin cannot be demoted or deleted", async () => {
    await expect(m.users.updateUser(admin.id, { role: "viewer" }, actor())).rejects.toMatchObject({ code: "conflict" });
    await expect(m.users.updateUser(admin.id, { role: "operator" }, actor())).rejects.toMatchObject({ code: "conflict" });
    const adminSession = await m.sessions.createSession(admin.id);
    const res = await m.userRoute.PATCH(
      req(`/api/users/${admin.id}`, { method: "PATCH", body: { role: "viewer" }, cookie: cookieOf(adminSession.token) }),
      ctx({ id: admin.id }),
    );
    expect(res.status).toBe(409);
    expect((await m.db().user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe("admin");

    // deleting oneself is refused; so is deleting the last admin by someone else
    await expect(m.users.deleteUser(admin.id, actor())).rejects.toMatchObject({ code: "conflict" });
    await expect(m.users.deleteUser(admin.id, { id: "other", username: "other", role: "admin", sessionId: "-" })).rejects.toMatchObject({ code: "conflict" });
  });

  it("with a second admin, the first can be demoted; events record every change", async () => {
    const second = await m.users.createUser({ username: "second-admin", password: PASSWORD, role: "admin" }, actor());
    const demoted = await m.users.updateUser(admin.id, { role: "operator" }, { id: second.id, username: second.username, role: "admin", sessionId: "-" });
    expect(demoted.role).toBe("operator");
    // now second-admin is the last admin
    await expect(m.users.updateUser(second.id, { role: "viewer" }, { id: second.id, username: second.username, role: "admin", sessionId: "-" })).rejects.toMatchObject({
      code: "conflict",
    });
    const target = await m.db().user.findUniqueOrThrow({ where: { username: "target" } });
    await m.users.deleteUser(target.id, { id: second.id, username: second.username, role: "admin", sessionId: "-" });

    expect((await events("user.created")).map((e) => e.message)).toEqual(
      expect.arrayContaining([`${admin.username} added user target (viewer)`, `${admin.username} added user second-admin (admin)`]),
    );
    expect((await events("user.updated")).at(-1)).toMatchObject({ actor: "second-admin", message: `second-admin changed ${admin.username}: role admin → operator` });
    expect((await events("user.deleted")).at(-1)).toMatchObject({ actor: "second-admin", message: "second-admin deleted user target" });
  });

  it("an operator cannot manage users (403), an admin can (201, 409 on a duplicate)", async () => {
    const operatorSession = await m.sessions.createSession(admin.id); // demoted to operator above
    const asOperator = await m.usersRoute.POST(
      req("/api/users", { method: "POST", body: { username: "sneaky", password: PASSWORD, role: "admin" }, cookie: cookieOf(operatorSession.token) }),
      ctx(),
    );
    expect(asOperator.status).toBe(403);
    expect(await m.db().user.findUnique({ where: { username: "sneaky" } })).toBeNull();

    const second = await m.db().user.findUniqueOrThrow({ where: { username: "second-admin" } });
    const adminSession = await m.sessions.createSession(second.id);
    const created = await m.usersRoute.POST(
      req("/api/users", { method: "POST", body: { username: "newbie", password: PASSWORD, role: "viewer" }, cookie: cookieOf(adminSession.token) }),
      ctx(),
    );
    expect(created.status).toBe(201);
    const dup = await m.usersRoute.POST(
      req("/api/users", { method: "POST", body: { username: "newbie", password: PASSWORD, role: "viewer" }, cookie: cookieOf(adminSession.token) }),
      ctx(),
    );
    expect(dup.status).toBe(409);
    const weak = await m.usersRoute.POST(
      req("/api/users", { method: "POST", body: { username: "weak", password: "short", role: "viewer" }, cookie: cookieOf(adminSession.token) }),
      ctx(),
    );
    expect(weak.status).toBe(400);
    // the password hash never leaves the server
    const list = await m.usersRoute.GET(req("/api/users", { cookie: cookieOf(adminSession.token) }), ctx());
    expect(list.status).toBe(200);
    expect(JSON.stringify(await list.json())).not.toMatch(/passwordHash|\$2[aby]\$|scrypt\$/);
  });
});
