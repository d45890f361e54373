/**
 * A viewer's rules preview does not run the engine's binary, and previews are rate
 * limited per user (issue 10, Low: any viewer could make the panel spawn `haproxy -c`
 * as fast as it could send requests). Through the preview route on a real database,
 * with the engine the panel would use; its check is watched with a spy (the real
 * check still runs for an operator).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { routeRequest } from "@/tests/helpers/route-request";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

let database: TempDatabase | undefined;
let preview: typeof import("@/app/api/balancer/preview/route");
let checks: ReturnType<typeof vi.fn>;
let serviceId = "";
const cookies: Record<"viewer" | "operator", string> = { viewer: "", operator: "" };
const ctx = { params: Promise.resolve({}) };

beforeAll(async () => {
  database = await openTempDatabase("preview");
  const { db } = await import("@/lib/db/client");
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  const { defaultRules } = await import("@/lib/core/rules");
  const { controller } = await import("@/lib/controller/controller");
  preview = await import("@/app/api/balancer/preview/route");
  for (const role of ["viewer", "operator"] as const) {
    const u = await db().user.create({ data: { username: `preview-${role}`, passwordHash: "x", role } });
    cookies[role] = `${SESSION_COOKIE}=${(await createSession(u.id)).token}`;
  }
  serviceId = (await db().service.create({ data: { name: "web", runtime: "process", adminToken: "t", rules: JSON.stringify(defaultRules()) } })).id;
  const engine = controller().engine;
  const realCheck = engine.check.bind(engine);
  checks = vi.fn(realCheck);
  engine.check = checks as typeof engine.check;
});

afterAll(async () => {
  await database?.close();
});

const ask = (role: "viewer" | "operator") =>
  preview.POST(routeRequest("/api/balancer/preview", { method: "POST", cookie: cookies[role], json: { serviceId, rules: { algorithm: "least_conn" } } }), ctx);

describe("rules preview", () => {
  it("a viewer gets the render and the diff, and no engine binary runs", async () => {
    const res = await ask("viewer");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { diff: string; check: { ok: boolean | null; skipped?: string } };
    expect(body.diff).toBeTypeOf("string");
    expect(body.check).toEqual({ ok: null, skipped: expect.stringMatching(/operators and admins/) });
    expect(checks).not.toHaveBeenCalled();
  });

  it("an operator's preview runs the engine's check", async () => {
    const res = await ask("operator");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { check: { ok: boolean } }).check.ok).toBe(true);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it("previews are limited per user per minute: then 429 with Retry-After, other users unaffected", async () => {
    const { PREVIEWS_PER_MINUTE } = await import("@/lib/services/apply-rules");
    const statuses: number[] = [];
    for (let i = 1; i < PREVIEWS_PER_MINUTE; i++) statuses.push((await ask("viewer")).status); // one was used above
    expect(statuses.every((s) => s === 200)).toBe(true);
    const over = await ask("viewer");
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await ask("operator")).status).toBe(200);
    expect(checks).toHaveBeenCalledTimes(2); // the viewer's 30 previews ran none
  });

  it("invalid rules are refused (400) before they count: a flood of bad input never uses up the budget", async () => {
    const bad = () =>
      preview.POST(routeRequest("/api/balancer/preview", { method: "POST", cookie: cookies.operator, json: { serviceId, rules: { route: { pathPrefix: "/a b" } } } }), ctx);
    for (let i = 0; i < 40; i++) expect((await bad()).status).toBe(400);
    expect((await ask("operator")).status).toBe(200);
  });
});
