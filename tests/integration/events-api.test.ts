/**
 * GET /api/events (issue 12, item 11) against a real SQLite database: filters by kind,
 * service and actor, search, cursor paging, 400 on hostile parameters, and a viewer's
 * search that cannot find what the viewer may not read. The handler is called directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
const SECRET = "tok-5ecret-value-91";

let database: TempDatabase | undefined;
let m: {
  db: typeof import("@/lib/db/client").db;
  recordEvent: typeof import("@/lib/events").recordEvent;
  createSession: typeof import("@/lib/auth/sessions").createSession;
  route: typeof import("@/app/api/events/route");
};
const cookies: Record<"admin" | "viewer", string> = { admin: "", viewer: "" };
let serviceA = "";
let serviceB = "";

type Page = { events: { id: number; kind: string; serviceId: string | null; actor: string; message: string; at: string }[]; nextBefore: number | null };

async function get(qs: string, as: "admin" | "viewer" = "admin"): Promise<{ status: number; body: Page & { error?: { code: string; message: string } } }> {
  const req = new Request(`${ORIGIN}/api/events${qs ? `?${qs}` : ""}`, { headers: { host: "127.0.0.1:3999", cookie: cookies[as], "x-switchyard-remote": "127.0.0.1" } });
  const res = await m.route.GET(req);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  database = await openTempDatabase("events-api");
  m = {
    db: (await import("@/lib/db/client")).db,
    recordEvent: (await import("@/lib/events")).recordEvent,
    createSession: (await import("@/lib/auth/sessions")).createSession,
    route: await import("@/app/api/events/route"),
  };
  for (const role of ["admin", "viewer"] as const) {
    const user = await m.db().user.create({ data: { username: `${role}1`, passwordHash: "x", role } });
    cookies[role] = `sy_session=${(await m.createSession(user.id)).token}`;
  }
  const service = (name: string, env: Record<string, string>) =>
    m.db().service.create({ data: { name, runtime: "process", adminToken: "t".repeat(32), rules: "{}", env: JSON.stringify(env) } });
  serviceA = (await service("alpha", { API_TOKEN: SECRET })).id;
  serviceB = (await service("beta", {})).id;
  // 60 events: alternating services, kinds and actors, a few with words to search for
  for (let i = 0; i < 60; i++) {
    await m.recordEvent({
      kind: i % 3 === 0 ? "replica.ready" : i % 3 === 1 ? "replica.removed" : "service.scaled",
      serviceId: i % 2 === 0 ? serviceA : serviceB,
      actor: i % 5 === 0 ? "alice" : "controller",
      message: i === 7 ? "discount 50% off_peak" : i === 8 ? "discount 50 percent offXpeak" : i === 9 ? `started with API_TOKEN=${SECRET}` : `event number ${i}`,
    });
  }
});

afterAll(async () => {
  await database?.close();
});

describe("GET /api/events", () => {
  it("pages newest first through every event by cursor, without gaps or repeats", async () => {
    const seen: number[] = [];
    let qs = "limit=25";
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await get(qs);
      expect(status).toBe(200);
      seen.push(...body.events.map((e) => e.id));
      if (body.nextBefore === null) break;
      qs = `limit=25&before=${body.nextBefore}`;
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it("filters by kind, by kind group, by service and by actor, together", async () => {
    const ready = (await get("kind=replica.ready&limit=100")).body.events;
    expect(ready).toHaveLength(20);
    expect(ready.every((e) => e.kind === "replica.ready")).toBe(true);
    expect((await get("kind=replica&limit=100")).body.events).toHaveLength(40);
    const a = (await get(`service=${serviceA}&limit=100`)).body.events;
    expect(a).toHaveLength(30);
    expect(a.every((e) => e.serviceId === serviceA)).toBe(true);
    const alice = (await get("actor=alice&limit=100")).body.events;
    expect(alice).toHaveLength(12);
    const all = (await get(`kind=replica.ready&service=${serviceB}&actor=alice&limit=100`)).body.events;
    // i % 3 === 0, i odd, i % 5 === 0: i = 15, 45
    expect(all.map((e) => e.message).sort()).toEqual(["event number 15", "event number 45"]);
  });

  it("searches as a plain, case-insensitive substring: % and _ are characters, not wildcards", async () => {
    expect((await get("q=EVENT%20NUMBER%201&limit=100")).body.events).toHaveLength(11); // 1, 10-19
    expect((await get("q=50%25%20off_peak")).body.events.map((e) => e.message)).toEqual(["discount 50% off_peak"]);
    expect((await get("q=off_peak")).body.events).toHaveLength(1);
  });

  it("pages a filtered list too", async () => {
    const first = await get("kind=replica&limit=15");
    expect(first.body.events).toHaveLength(15);
    const second = await get(`kind=replica&limit=15&before=${first.body.nextBefore}`);
    const third = await get(`kind=replica&limit=15&before=${second.body.nextBefore}`);
    expect(third.body.events).toHaveLength(10);
    expect(third.body.nextBefore).toBeNull();
  });

  it.each([
    "sort=asc",
    "kind=replica&kind=auth",
    "kind=nope.never",
    "service=..%2F..",
    "actor=a%20b",
    "q=%00",
    `q=${"y".repeat(101)}`,
    "before=-3",
    "limit=100000",
  ])("answers 400 bad_request to %s", async (qs) => {
    const { status, body } = await get(qs);
    expect(status).toBe(400);
    expect(body.error?.code).toBe("bad_request");
  });

  it("hides secrets from a viewer, and a viewer's search cannot find them", async () => {
    const admin = (await get(`q=${SECRET}`)).body.events;
    expect(admin.map((e) => e.message)).toEqual([`started with API_TOKEN=${SECRET}`]);
    expect((await get(`q=${SECRET}`, "viewer")).body.events).toEqual([]);
    expect((await get("q=5ecret", "viewer")).body.events).toEqual([]);
    const shown = (await get("q=started%20with", "viewer")).body.events;
    expect(shown.map((e) => e.message)).toEqual(["started with API_TOKEN=(hidden)"]);
    const all = (await get("limit=1000", "viewer")).body.events;
    expect(all.some((e) => e.message.includes(SECRET))).toBe(false);
  });

  it("needs a session", async () => {
    const res = await m.route.GET(new Request(`${ORIGIN}/api/events`, { headers: { host: "127.0.0.1:3999" } }));
    expect(res.status).toBe(401);
  });
});
