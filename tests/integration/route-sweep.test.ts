/**
 * Every route handler under app/api is protected, proved by calling all of them.
 *
 * The sweep finds each route.ts on disk, imports it, and calls every exported HTTP
 * method directly (no server) against a real SQLite database:
 *   - anonymous, same origin          → 401, unless the route is in PUBLIC below
 *   - mutation from another origin    → 403, for every mutation, public ones included
 *   - mutation without Origin/Referer → 403
 *   - mutation by a signed-in viewer  → 403, unless it is in VIEWER_MUTATIONS below
 *     (with the reason it changes no shared state)
 * A new route that is not wrapped in route()/publicRoute() fails here. Making a
 * route public, or a mutation open to viewers, means adding it to a list below,
 * on purpose and in review.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ROOT = path.resolve(__dirname, "..", "..");
const API_DIR = path.join(ROOT, "app", "api");
const ORIGIN = "http://127.0.0.1:3999";
const EVIL = "http://evil.example";
const METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];
const isMutation = (m: Method) => m !== "GET" && m !== "HEAD" && m !== "OPTIONS";

/** Routes any anonymous caller may use; value: the status an anonymous call must get (null: anything but 401). */
const PUBLIC: Record<string, number | null> = {
  "GET /api/health": 200,
  "POST /api/auth/login": null, // throttled sign-in
  "POST /api/auth/setup": null, // only while no user exists (409 afterwards)
};
/**
 * Mutations a viewer is let into (not 401/403), each with the reason it changes no
 * shared state. Logout must succeed (200); the others get an empty body here.
 */
const VIEWER_MUTATIONS: Record<string, string> = {
  "POST /api/auth/logout": "ends the caller's own session",
  "POST /api/account/password": "changes the caller's own password (the current one required)",
  "POST /api/balancer/preview": "renders a proposed rules change and diffs it; changes nothing",
  "POST /api/routes/try": "says which route and service a URL reaches (lib/core's matcher); changes nothing",
};
const isViewerMutation = (key: string) => Object.hasOwn(VIEWER_MUTATIONS, key);

type Handler = (req: Request, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response> | Response;
type Endpoint = { key: string; method: Method; urlPath: string; params: Record<string, string | string[]>; handler: Handler };

function findRouteFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findRouteFiles(p));
    else if (/^route\.(ts|tsx|js|mjs)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** app/api/users/[id]/route.ts → { pattern: "/api/users/[id]", urlPath: "/api/users/x", params: { id: "x" } } */
function describeRoute(file: string) {
  const segments = path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep);
  const params: Record<string, string | string[]> = {};
  const urlSegments: string[] = [];
  const patternSegments: string[] = [];
  for (const seg of segments) {
    if (/^\(.*\)$/.test(seg) || seg.startsWith("@")) continue; // route groups and slots are not in the URL
    patternSegments.push(seg);
    const dyn = /^\[(\[)?(\.\.\.)?([^\]]+)\]?\]$/.exec(seg);
    if (dyn) {
      const name = dyn[3];
      params[name] = dyn[2] ? ["x"] : "x";
      urlSegments.push("x");
    } else urlSegments.push(seg);
  }
  return { pattern: "/" + patternSegments.join("/"), urlPath: "/" + urlSegments.join("/"), params };
}

function call(e: Endpoint, headers: Record<string, string>): Promise<Response> {
  const req = new Request(`${ORIGIN}${e.urlPath}`, {
    method: e.method,
    headers: { host: "127.0.0.1:3999", ...headers },
    // a syntactically valid, empty JSON body: mutations must be refused before it matters
    body: isMutation(e.method) ? "{}" : undefined,
  });
  return Promise.resolve(e.handler(req, { params: Promise.resolve({ ...e.params }) }));
}

let database: TempDatabase | undefined;
const endpoints: Endpoint[] = [];
const checked = new Map<string, Set<string>>(); // endpoint key → which checks ran
const mark = (key: string, check: string) => {
  if (!checked.has(key)) checked.set(key, new Set());
  checked.get(key)!.add(check);
};

beforeAll(async () => {
  database = await openTempDatabase("sweep");
  for (const file of findRouteFiles(API_DIR)) {
    const { pattern, urlPath, params } = describeRoute(file);
    const mod = (await import(file)) as Record<string, unknown>;
    for (const method of METHODS) {
      const handler = mod[method];
      if (typeof handler !== "function") continue;
      endpoints.push({ key: `${method} ${pattern}`, method, urlPath, params, handler: handler as Handler });
    }
  }
});

afterAll(async () => {
  await database?.close();
});

describe("route sweep over app/api", () => {
  it("finds the routes (sanity: the known ones are discovered)", () => {
    const keys = endpoints.map((e) => e.key);
    for (const known of ["GET /api/health", "POST /api/auth/login", "POST /api/auth/logout", "GET /api/auth/me", "GET /api/users", "PATCH /api/users/[id]"]) {
      expect(keys).toContain(known);
    }
    // the public allow-list names only routes that exist (a stale entry would silently
    // open a route added later under that name); a stale viewer entry is only reported
    for (const listed of Object.keys(PUBLIC)) expect(keys).toContain(listed);
    for (const listed of Object.keys(VIEWER_MUTATIONS)) if (!keys.includes(listed)) console.warn(`route sweep: VIEWER_MUTATIONS lists ${listed}, which does not exist`);
    console.log(`route sweep: ${endpoints.length} handlers in ${new Set(endpoints.map((e) => e.key.split(" ")[1])).size} route files`);
  });

  it("refuses anonymous callers with 401 (except the public allow-list)", async () => {
    const failures: string[] = [];
    for (const e of endpoints) {
      const res = await call(e, { origin: ORIGIN });
      mark(e.key, "anonymous");
      if (e.key in PUBLIC) {
        const want = PUBLIC[e.key];
        if (want !== null && res.status !== want) failures.push(`${e.key}: public route answered ${res.status}, expected ${want}`);
        if (want === null && res.status === 401) failures.push(`${e.key}: public route answered 401`);
      } else if (res.status !== 401) {
        failures.push(`${e.key}: anonymous call answered ${res.status} (${(await res.text()).slice(0, 200)}), expected 401`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("refuses cross-origin and Origin-less mutations with 403, public routes included", async () => {
    const failures: string[] = [];
    for (const e of endpoints.filter((x) => isMutation(x.method))) {
      const evil = await call(e, { origin: EVIL });
      if (evil.status !== 403) failures.push(`${e.key}: Origin ${EVIL} answered ${evil.status}, expected 403`);
      const evilReferer = await call(e, { referer: `${EVIL}/services` });
      if (evilReferer.status !== 403) failures.push(`${e.key}: cross-origin Referer answered ${evilReferer.status}, expected 403`);
      const none = await call(e, {});
      if (none.status !== 403) failures.push(`${e.key}: no Origin answered ${none.status}, expected 403`);
      mark(e.key, "cross-origin");
    }
    expect(failures).toEqual([]);
  });

  it("refuses every mutation to a viewer with 403 (except the viewer allow-list)", async () => {
    const { db } = await import("@/lib/db/client");
    const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
    const viewer = await db().user.create({ data: { username: "sweep-viewer", passwordHash: "x", role: "viewer" } });
    const { token } = await createSession(viewer.id);
    const cookie = `${SESSION_COOKIE}=${token}`;

    const failures: string[] = [];
    const mutations = endpoints.filter((x) => isMutation(x.method));
    // logout last: it ends the viewer's session
    const ordered = [...mutations.filter((e) => e.key !== "POST /api/auth/logout"), ...mutations.filter((e) => e.key === "POST /api/auth/logout")];
    for (const e of ordered) {
      const res = await call(e, { origin: ORIGIN, cookie });
      mark(e.key, "viewer");
      const text = (await res.text()).slice(0, 200);
      if (e.key === "POST /api/auth/logout") {
        if (res.status !== 200) failures.push(`${e.key}: a viewer's call answered ${res.status} (${text}), expected 200`);
      } else if (isViewerMutation(e.key)) {
        if (res.status === 401 || res.status === 403 || res.status >= 500) failures.push(`${e.key}: a viewer's call answered ${res.status} (${text}), expected to be let in`);
      } else if (e.key in PUBLIC) {
        // public mutations (login, setup) with an empty body: refused, never a success
        if (res.status < 400 || res.status >= 500) failures.push(`${e.key}: a viewer's call answered ${res.status} (${text}), expected a 4xx`);
      } else if (res.status !== 403) {
        failures.push(`${e.key}: a viewer's call answered ${res.status} (${text}), expected 403`);
      }
    }
    expect(failures).toEqual([]);

    // reads stay open to a viewer with a fresh session (the role model: viewers see everything but users)
    const fresh = `${SESSION_COOKIE}=${(await createSession(viewer.id)).token}`;
    const me = endpoints.find((e) => e.key === "GET /api/auth/me")!;
    expect((await call(me, { cookie: fresh })).status).toBe(200);
  });

  it("checked every discovered handler", () => {
    const missing: string[] = [];
    for (const e of endpoints) {
      const done = checked.get(e.key) ?? new Set();
      const needed = isMutation(e.method) ? ["anonymous", "cross-origin", "viewer"] : ["anonymous"];
      for (const n of needed) if (!done.has(n)) missing.push(`${e.key}: ${n}`);
    }
    expect(missing).toEqual([]);
    expect(endpoints.length).toBeGreaterThan(0);
  });
});
