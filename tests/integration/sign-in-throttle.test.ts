/**
 * Sign-in throttling and its events (issue 10, Medium 8, 10 and 11), through the
 * sign-in route on a real SQLite database. The attacks of the issue, each reproduced:
 * five wrong passwords for a name from one address locked that user out of every
 * address; five failures with random names locked out everyone behind the address;
 * correct sign-ins were not throttled at all; 400 refused sign-ins wrote (and pushed)
 * 400 events. Each `it` uses addresses of its own (the per-minute budget is in memory).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { routeRequest } from "@/tests/helpers/route-request";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const PASSWORD = "correct horse battery";

let database: TempDatabase | undefined;
let m: {
  db: typeof import("@/lib/db/client").db;
  login: typeof import("@/app/api/auth/login/route");
  throttle: typeof import("@/lib/auth/throttle");
  events: typeof import("@/lib/events");
};

beforeAll(async () => {
  database = await openTempDatabase("throttle");
  m = {
    db: (await import("@/lib/db/client")).db,
    login: await import("@/app/api/auth/login/route"),
    throttle: await import("@/lib/auth/throttle"),
    events: await import("@/lib/events"),
  };
  const { hashPassword } = await import("@/lib/auth/password");
  const passwordHash = await hashPassword(PASSWORD);
  await m.db().user.createMany({
    data: ["alice", "bob", "mallory"].map((username) => ({ username, passwordHash, role: "viewer" })),
  });
});

afterAll(async () => {
  await database?.close();
});

/** The per-minute budget is counted in memory: forgetting it is what a minute's wait does (the failures stay in the database). */
const aMinuteLater = () => forget("sign-in-attempts");

async function login(username: string, password: string, ip: string): Promise<{ status: number; code?: string; message?: string; retryAfter: string | null }> {
  const res = await m.login.POST(routeRequest("/api/auth/login", { method: "POST", json: { username, password }, ip }));
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message, retryAfter: res.headers.get("retry-after") };
}

describe("sign-in throttling per (name, address) with a ceiling per address", () => {
  it("an attacker's failures for a name block that name from the attacker's address only: the user signs in from theirs", async () => {
    for (let i = 0; i < m.throttle.PAIR_FAILURES; i++) expect((await login("alice", "wrong password", "203.0.113.1")).status).toBe(401);
    const blocked = await login("alice", PASSWORD, "203.0.113.1");
    expect(blocked).toMatchObject({ status: 429, code: "too_many_requests" });
    expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
    expect((await login("alice", PASSWORD, "198.51.100.7")).status).toBe(200); // before: 429 for 900 s
    expect((await login("bob", PASSWORD, "203.0.113.1")).status).toBe(200); // other names from that address too
  });

  it("five failures with random names do not lock out the address; a spray past the ceiling does, and only that address", async () => {
    const ip = "203.0.113.2";
    for (let i = 0; i < 5; i++) expect((await login(`nobody${i}`, "wrong password", ip)).status).toBe(401);
    expect((await login("bob", PASSWORD, ip)).status).toBe(200); // before: 429 for everyone behind the address
    aMinuteLater();
    for (let i = 5; i < m.throttle.ADDRESS_FAILURES; i++) expect((await login(`nobody${i}`, "wrong password", ip)).status).toBe(401);
    const refused = await login("bob", PASSWORD, ip);
    expect(refused).toMatchObject({ status: 429, code: "too_many_requests", message: expect.stringMatching(/^too many failed sign-ins from this address/) });
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(m.throttle.WINDOW_MS / 1000);
    expect((await login("bob", PASSWORD, "198.51.100.8")).status).toBe(200);
  });

  it("a success clears its own name's failures, never the address's ceiling (a valid account cannot launder a spray)", async () => {
    const ip = "203.0.113.3";
    for (let round = 0; round < 3; round++) {
      aMinuteLater();
      for (let i = 0; i < 6; i++) expect((await login(`victim${round}-${i}`, "wrong password", ip)).status).toBe(401);
      expect((await login("mallory", PASSWORD, ip)).status).toBe(200); // mallory's own account, between rounds
    }
    for (let i = 18; i < m.throttle.ADDRESS_FAILURES; i++) expect((await login(`victim-${i}`, "wrong password", ip)).status).toBe(401);
    // 20 failures from the address in spite of three successes: refused by the ceiling, not by the per-minute budget
    expect(await login("mallory", PASSWORD, ip)).toMatchObject({ status: 429, message: expect.stringMatching(/^too many failed sign-ins from this address/) });
  });

  it("correct sign-ins are throttled too: ATTEMPTS_PER_MINUTE per address, then 429 without checking the password", async () => {
    const ip = "203.0.113.4";
    const statuses: number[] = [];
    for (let i = 0; i < m.throttle.ATTEMPTS_PER_MINUTE; i++) statuses.push((await login("bob", PASSWORD, ip)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const t = performance.now();
    const over = await login("bob", PASSWORD, ip);
    const ms = performance.now() - t;
    expect(over).toMatchObject({ status: 429, code: "too_many_requests", message: expect.stringMatching(/^too many sign-ins from this address/) });
    console.log(`sign-in number ${m.throttle.ATTEMPTS_PER_MINUTE + 1} in a minute from one address: 429 in ${ms.toFixed(1)} ms (no hashing)`);
  });
});

describe("throttle events", () => {
  it("400 refused sign-ins from one address are one auth.throttled event with a count, pushed once", async () => {
    const ip = "203.0.113.5";
    for (let i = 0; i < m.throttle.PAIR_FAILURES; i++) await login("alice", "wrong password", ip);
    const pushed: { kind: string }[] = [];
    const onEvent = (e: { kind: string }) => pushed.push(e);
    m.events.bus().on("event", onEvent);
    const rowsBefore = await m.db().event.count();
    const t = performance.now();
    try {
      // the per-minute budget would refuse these before the password check anyway; both paths aggregate
      for (let i = 0; i < 400; i++) expect((await login("alice", PASSWORD, ip)).status).toBe(429);
    } finally {
      m.events.bus().off("event", onEvent);
    }
    const ms = performance.now() - t;
    const rows = (await m.db().event.count()) - rowsBefore;
    const throttled = await m.db().event.findMany({ where: { kind: "auth.throttled", data: { contains: ip } } });
    console.log(`400 refused sign-ins in ${ms.toFixed(0)} ms: ${rows} new event row(s), ${pushed.length} push(es)`);
    expect(rows).toBe(1);
    expect(throttled).toHaveLength(1);
    expect(pushed.map((e) => e.kind)).toEqual(["auth.throttled"]);
    // the count reaches the row a moment later (written at most every 2 s)
    const deadline = Date.now() + 5000;
    let data: { count?: number } = {};
    while (Date.now() < deadline) {
      const row = await m.db().event.findUniqueOrThrow({ where: { id: throttled[0].id } });
      data = JSON.parse(row.data ?? "{}") as { count?: number };
      if (data.count === 400) {
        expect(row.message).toContain("(400 refused in this minute)");
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(data.count).toBe(400);
  });

  it("the event table is bounded: older than the maximum age, or past the maximum rows, events are deleted", async () => {
    const now = Date.now();
    await m.db().event.deleteMany({});
    const old = new Date(now - (m.events.EVENT_MAX_AGE_DAYS + 1) * 86_400_000);
    await m.db().event.createMany({ data: Array.from({ length: 30 }, (_, i) => ({ kind: "test.old", message: `old ${i}`, actor: "test", at: old })) });
    await m.db().event.createMany({ data: Array.from({ length: 150 }, (_, i) => ({ kind: "test.new", message: `new ${i}`, actor: "test" })) });
    const removed = await m.events.pruneEvents(now, { maxAgeDays: m.events.EVENT_MAX_AGE_DAYS, maxRows: 100 });
    expect(removed).toBe(80);
    const left = await m.db().event.findMany({ orderBy: { id: "asc" } });
    expect(left).toHaveLength(100);
    expect(left.every((e) => e.kind === "test.new")).toBe(true);
    expect(left[0].message).toBe("new 50"); // the newest 100 stay
    console.log(`retention: events older than ${m.events.EVENT_MAX_AGE_DAYS} days and past the newest ${m.events.EVENT_MAX_ROWS} rows are deleted at start and every 500 events`);
  });
});
