/**
 * The session cookie's flags and the session lifetime (SESSION_TTL_HOURS), against a real
 * SQLite database through the sign-in and sign-out route handlers. The lifetime is
 * checked with a controllable clock (vitest's fake Date), not by waiting hours.
 * (auth.test.ts covers HttpOnly/SameSite on sign-in and a session whose expiry was moved
 * into the past; this file adds Path, Secure, Expires and the TTL itself.)
 */
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { forget } from "@/lib/remember";
import { openTempDatabase, type TempDatabase } from "../helpers/temp-db";

const TTL_HOURS = 3;
const PASSWORD = "session cookie password";

let database: TempDatabase;
let m: {
  db: typeof import("@/lib/db/client").db;
  sessions: typeof import("@/lib/auth/sessions");
  login: typeof import("@/app/api/auth/login/route");
  logout: typeof import("@/app/api/auth/logout/route");
  me: typeof import("@/app/api/auth/me/route");
};
let admin: { id: string; username: string };

/** A request as the panel's server hands it on: `url` says http or https, plus the headers a proxy may add. */
function req(url: string, init: { method?: string; body?: unknown; cookie?: string; headers?: Record<string, string> } = {}): Request {
  const u = new URL(url);
  const headers: Record<string, string> = { host: u.host, origin: u.origin, "x-switchyard-remote": "127.0.0.1", ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return new Request(url, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}
const ctx = { params: Promise.resolve({}) };

/** Set-Cookie "name=value; A=b; Flag" → value and attributes (names lower case). */
function parseSetCookie(header: string): { value: string; attrs: Record<string, string | true> } {
  const [first, ...rest] = header.split(";").map((p) => p.trim());
  const attrs: Record<string, string | true> = {};
  for (const p of rest) {
    const i = p.indexOf("=");
    if (i < 0) attrs[p.toLowerCase()] = true;
    else attrs[p.slice(0, i).toLowerCase()] = p.slice(i + 1);
  }
  return { value: first.slice(first.indexOf("=") + 1), attrs };
}

async function signIn(url: string, headers: Record<string, string> = {}) {
  const res = await m.login.POST(req(`${url}/api/auth/login`, { method: "POST", body: { username: admin.username, password: PASSWORD }, headers }));
  expect(res.status).toBe(200);
  return parseSetCookie(res.headers.get("set-cookie") ?? "");
}

/** Reads the environment afresh with these settings (lib/env.ts remembers it). */
function withEnv(vars: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  forget("env");
}

beforeAll(async () => {
  process.env.SESSION_TTL_HOURS = String(TTL_HOURS);
  database = await openTempDatabase("session");
  // the https cases reach the panel as panel.example (a proxy in front): a name it must be told (DNS rebinding guard)
  withEnv({ PUBLIC_URL: "https://panel.example:3999" });
  m = {
    db: (await import("@/lib/db/client")).db,
    sessions: await import("@/lib/auth/sessions"),
    login: await import("@/app/api/auth/login/route"),
    logout: await import("@/app/api/auth/logout/route"),
    me: await import("@/app/api/auth/me/route"),
  };
  const { createFirstAdmin } = await import("@/lib/services/create-first-admin");
  admin = await createFirstAdmin({ username: "cookie-admin", password: PASSWORD });
});

afterEach(() => {
  vi.useRealTimers();
  withEnv({ TRUST_PROXY: undefined });
});

afterAll(async () => {
  delete process.env.SESSION_TTL_HOURS;
  delete process.env.PUBLIC_URL;
  await database?.close();
});

describe("the session cookie", () => {
  it(`over http: HttpOnly, SameSite=Lax, Path=/, not Secure, and it expires with the session after SESSION_TTL_HOURS=${TTL_HOURS}`, async () => {
    const before = Date.now();
    const { value, attrs } = await signIn("http://127.0.0.1:3999");
    expect(attrs).toMatchObject({ httponly: true, samesite: "Lax", path: "/" });
    expect(attrs.secure).toBeUndefined();
    expect(attrs.domain).toBeUndefined(); // host-only: never sent to other hosts
    const expires = Date.parse(String(attrs.expires));
    expect(expires).toBeGreaterThanOrEqual(Math.floor((before + TTL_HOURS * 3600_000) / 1000) * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL_HOURS * 3600_000);
    const user = await m.sessions.userFromToken(value);
    const row = await m.db().session.findUniqueOrThrow({ where: { id: user!.sessionId } });
    // the cookie and the server-side session end together (cookie dates have whole seconds)
    expect(Math.floor(row.expiresAt.getTime() / 1000) * 1000).toBe(expires);
  });

  it("over https the cookie is Secure; behind a proxy only when TRUST_PROXY is set and it says https", async () => {
    expect((await signIn("https://panel.example:3999")).attrs.secure).toBe(true);
    const forwarded = { "x-forwarded-proto": "https" };
    // an untrusted X-Forwarded-Proto changes nothing (and its origin is then http)
    expect((await signIn("http://127.0.0.1:3999", forwarded)).attrs.secure).toBeUndefined();
    withEnv({ TRUST_PROXY: "true" });
    const behindProxy = await signIn("http://127.0.0.1:3999", { ...forwarded, origin: "https://127.0.0.1:3999" });
    expect(behindProxy.attrs).toMatchObject({ secure: true, httponly: true, samesite: "Lax", path: "/" });
  });

  it("sign-out clears it with the same flags", async () => {
    for (const [url, secure] of [["http://127.0.0.1:3999", undefined], ["https://panel.example:3999", true]] as const) {
      const { value } = await signIn(url);
      const res = await m.logout.POST(req(`${url}/api/auth/logout`, { method: "POST", cookie: `${m.sessions.SESSION_COOKIE}=${value}` }), ctx);
      expect(res.status).toBe(200);
      const cleared = parseSetCookie(res.headers.get("set-cookie") ?? "");
      expect(cleared.value).toBe("");
      expect(cleared.attrs).toMatchObject({ "max-age": "0", httponly: true, samesite: "Lax", path: "/" });
      expect(cleared.attrs.secure).toBe(secure);
      expect(await m.sessions.userFromToken(value)).toBeNull();
    }
  });
});

describe("session lifetime (a controllable clock)", () => {
  it(`a session is good until SESSION_TTL_HOURS=${TTL_HOURS} have passed, then refused and removed`, async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = new Date("2031-05-01T10:00:00Z").getTime();
    vi.setSystemTime(t0);
    const { token, expiresAt } = await m.sessions.createSession(admin.id);
    expect(expiresAt.getTime()).toBe(t0 + TTL_HOURS * 3600_000);
    const me = () => m.me.GET(req("http://127.0.0.1:3999/api/auth/me", { cookie: `${m.sessions.SESSION_COOKIE}=${token}` }), ctx);

    vi.setSystemTime(t0 + TTL_HOURS * 3600_000 - 60_000);
    expect((await me()).status).toBe(200);
    expect(await m.sessions.userFromToken(token)).toMatchObject({ id: admin.id });

    vi.setSystemTime(t0 + TTL_HOURS * 3600_000 + 1000);
    expect((await me()).status).toBe(401);
    expect(await m.sessions.userFromToken(token)).toBeNull();
    expect(await m.db().session.findUnique({ where: { id: createHash("sha256").update(token).digest("hex") } })).toBeNull();
  });

  it("using a session does not extend it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const t0 = new Date("2031-06-01T10:00:00Z").getTime();
    vi.setSystemTime(t0);
    const { token } = await m.sessions.createSession(admin.id);
    for (let h = 1; h < TTL_HOURS; h++) {
      vi.setSystemTime(t0 + h * 3600_000);
      expect(await m.sessions.userFromToken(token)).not.toBeNull();
    }
    vi.setSystemTime(t0 + TTL_HOURS * 3600_000);
    expect(await m.sessions.userFromToken(token)).toBeNull();
  });
});
