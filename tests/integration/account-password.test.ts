/**
 * POST /api/account/password (issue 12, item 12) against a real SQLite database: every
 * role changes its own password with the current one; the new hash is scrypt; the
 * user's other sessions end and this one stays; a wrong current password is refused
 * (403) and throttled like sign-ins; nobody else's sessions are touched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
const OLD = "old password 123";
const NEW = "new password 456";

let database: TempDatabase | undefined;
let m: {
  db: typeof import("@/lib/db/client").db;
  sessions: typeof import("@/lib/auth/sessions");
  password: typeof import("@/lib/auth/password");
  signIn: typeof import("@/lib/services/sign-in").signIn;
  route: typeof import("@/app/api/account/password/route");
  me: typeof import("@/app/api/auth/me/route");
  bus: typeof import("@/lib/events").bus;
};

const cookie = (token: string) => `sy_session=${token}`;

function post(body: unknown, token: string, ip = "127.0.0.9") {
  return m.route.POST(
    new Request(`${ORIGIN}/api/account/password`, {
      method: "POST",
      headers: { host: "127.0.0.1:3999", origin: ORIGIN, cookie: cookie(token), "content-type": "application/json", "x-switchyard-remote": ip },
      body: JSON.stringify(body),
    }),
  );
}
const me = (token: string) => m.me.GET(new Request(`${ORIGIN}/api/auth/me`, { headers: { host: "127.0.0.1:3999", cookie: cookie(token) } }));

async function userWithSessions(username: string, role: string, n: number): Promise<string[]> {
  const user = await m.db().user.create({ data: { username, role, passwordHash: await m.password.hashPassword(OLD) } });
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) tokens.push((await m.sessions.createSession(user.id)).token);
  return tokens;
}

beforeAll(async () => {
  database = await openTempDatabase("account-password");
  m = {
    db: (await import("@/lib/db/client")).db,
    sessions: await import("@/lib/auth/sessions"),
    password: await import("@/lib/auth/password"),
    signIn: (await import("@/lib/services/sign-in")).signIn,
    route: await import("@/app/api/account/password/route"),
    me: await import("@/app/api/auth/me/route"),
    bus: (await import("@/lib/events")).bus,
  };
});

afterAll(async () => {
  await database?.close();
});

describe("changing one's own password", () => {
  it.each(["viewer", "operator", "admin"])("works for a %s: scrypt hash, other sessions end, this one stays, others' untouched", async (role) => {
    const [here, elsewhere, third] = await userWithSessions(`${role}-x`, role, 3);
    const [bystander] = await userWithSessions(`${role}-other`, "viewer", 1);
    const announced: unknown[] = [];
    const listen = (e: unknown) => announced.push(e);
    m.bus().on(m.sessions.SESSIONS_ENDED, listen);
    const res = await post({ currentPassword: OLD, newPassword: NEW }, here);
    m.bus().off(m.sessions.SESSIONS_ENDED, listen);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, endedSessions: 2 });
    expect((await me(here)).status).toBe(200);
    expect((await me(elsewhere)).status).toBe(401);
    expect((await me(third)).status).toBe(401);
    expect((await me(bystander)).status).toBe(200);
    expect(announced).toHaveLength(2); // by session id, so this browser's live channel stays open
    const row = await m.db().user.findUniqueOrThrow({ where: { username: `${role}-x` } });
    expect(row.passwordHash.startsWith("scrypt$")).toBe(true);
    await expect(m.signIn({ username: `${role}-x`, password: OLD, ip: "127.0.0.50" })).rejects.toThrow(/wrong user name or password/);
    expect((await m.signIn({ username: `${role}-x`, password: NEW, ip: "127.0.0.50" })).user.username).toBe(`${role}-x`);
    const event = await m.db().event.findFirst({ where: { kind: "user.updated", actor: `${role}-x` }, orderBy: { id: "desc" } });
    expect(event?.message).toBe(`${role}-x changed their password; 2 other sessions ended`);
    expect(event?.message).not.toContain(NEW);
  });

  it("refuses a wrong current password (403), changes nothing, ends nothing", async () => {
    const [here, elsewhere] = await userWithSessions("wrong-current", "viewer", 2);
    const before = (await m.db().user.findUniqueOrThrow({ where: { username: "wrong-current" } })).passwordHash;
    const res = await post({ currentPassword: "not it at all", newPassword: NEW }, here);
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toBe("the current password is wrong");
    expect((await m.db().user.findUniqueOrThrow({ where: { username: "wrong-current" } })).passwordHash).toBe(before);
    expect((await me(elsewhere)).status).toBe(200);
  });

  it("throttles guessing the current password like sign-ins (429 after five wrong ones)", async () => {
    const [here] = await userWithSessions("guesser", "viewer", 1);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post({ currentPassword: `guess number ${i}`, newPassword: NEW }, here, "127.0.0.77")).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    // even the right one waits now
    expect((await post({ currentPassword: OLD, newPassword: NEW }, here, "127.0.0.77")).status).toBe(429);
  });

  it.each([
    ["a short new password", { currentPassword: OLD, newPassword: "short" }],
    ["the same password", { currentPassword: OLD, newPassword: OLD }],
    ["no current password", { newPassword: NEW }],
    ["an extra field", { currentPassword: OLD, newPassword: NEW, username: "admin" }],
    ["a new password too long", { currentPassword: OLD, newPassword: "x".repeat(201) }],
  ])("refuses %s with 400", async (_what, body) => {
    const [here] = await userWithSessions(`bad-${Math.random().toString(36).slice(2, 8)}`, "viewer", 1);
    expect((await post(body, here)).status).toBe(400);
  });

  it("needs a session and this panel's origin", async () => {
    const res = await m.route.POST(
      new Request(`${ORIGIN}/api/account/password`, { method: "POST", headers: { host: "127.0.0.1:3999", origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ currentPassword: OLD, newPassword: NEW }) }),
    );
    expect(res.status).toBe(401);
    const [here] = await userWithSessions("cross-site", "viewer", 1);
    const cross = await m.route.POST(
      new Request(`${ORIGIN}/api/account/password`, {
        method: "POST",
        headers: { host: "127.0.0.1:3999", origin: "http://evil.example", cookie: cookie(here), "content-type": "application/json" },
        body: JSON.stringify({ currentPassword: OLD, newPassword: NEW }),
      }),
    );
    expect(cross.status).toBe(403);
  });
});
