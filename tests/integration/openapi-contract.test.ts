/**
 * The contract check itself (lib/openapi/contract.ts, on under SWITCHYARD_CONTRACT, which
 * tests/helpers/temp-db.ts and panel.ts set): handlers that answer outside the OpenAPI
 * document are made on purpose here, and each answer must become a 500 "contract
 * violation" naming the operation and what is wrong; an answer inside it passes
 * untouched. Without these, a check that never fires would look like a passing contract.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
let database: TempDatabase | undefined;
let http: typeof import("@/lib/http");
let cookie = "";

const get = (p: string) => new Request(`${ORIGIN}${p}`, { headers: { host: "127.0.0.1:3999", cookie, "x-switchyard-remote": "127.0.0.1" } });
const post = (p: string, body: unknown) =>
  new Request(`${ORIGIN}${p}`, { method: "POST", body: JSON.stringify(body), headers: { host: "127.0.0.1:3999", origin: ORIGIN, cookie, "content-type": "application/json", "x-switchyard-remote": "127.0.0.1" } });
const me = { user: { id: "u1", username: "contract-admin", role: "admin" } };

async function violation(res: Response): Promise<string> {
  expect(res.status).toBe(500);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("internal");
  return body.error.message;
}

beforeAll(async () => {
  database = await openTempDatabase("openapi-contract");
  http = await import("@/lib/http");
  const { db } = await import("@/lib/db/client");
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  const user = await db().user.create({ data: { username: "contract-admin", passwordHash: "x", role: "admin" } });
  cookie = `${SESSION_COOKIE}=${(await createSession(user.id)).token}`;
});

afterAll(async () => {
  await database?.close();
});

describe("contract check", () => {
  it("passes an answer the document describes, untouched", async () => {
    const res = await http.route("viewer", async () => me)(get("/api/auth/me"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(me);
  });

  it("turns a field the document does not name into a 500 that says so", async () => {
    const res = await http.route("viewer", async () => ({ ...me, extra: 1 }))(get("/api/auth/me"));
    expect(await violation(res)).toMatch(/^contract violation: GET \/api\/auth\/me answer 200: .*additional.*\(extra\)/);
  });

  it("turns a wrong type, a status the operation does not list and a wrong content type into 500s", async () => {
    const wrongType = await http.route("viewer", async () => ({ user: { ...me.user, role: "root" } }))(get("/api/auth/me"));
    expect(await violation(wrongType)).toMatch(/GET \/api\/auth\/me answer 200: \/user\/role must be equal to one of the allowed values/);
    const created = await http.route("viewer", async () => Response.json(me, { status: 201 }))(get("/api/auth/me"));
    expect(await violation(created)).toMatch(/answered 201, which the document does not list/);
    const text = await http.route("viewer", async () => new Response("ok"))(get("/api/auth/me"));
    expect(await violation(text)).toMatch(/answered 200 as text\/plain; the document says application\/json/);
  });

  it("refuses to let a request outside the document be accepted, and lets it be refused", async () => {
    const query = await http.route("viewer", async () => me)(get("/api/auth/me?debug=1"));
    expect(await violation(query)).toMatch(/accepted \(200\) a request outside the document: query parameter debug is not in the document/);
    const accepted = await http.route("viewer", async ({ req }) => {
      await http.body(req, (await import("zod")).z.unknown());
      return { url: "/", host: null, path: "/", reached: null, candidates: [] };
    })(post("/api/routes/try", { url: "/", listener: "NOT A NAME" }));
    expect(await violation(accepted)).toMatch(/POST \/api\/routes\/try accepted \(200\) a request outside the document: body: \/listener must match pattern/);
    const refused = await http.route("viewer", async () => {
      throw new (await import("@/lib/core/errors")).AppError("bad_request", "no");
    })(post("/api/routes/try", { url: 5 }));
    expect(refused.status).toBe(400);
  });

  it("checks GET /api/health like every other route: its answer passes, a request outside the document is a violation", async () => {
    const { GET } = await import("@/app/api/health/route");
    const ok = await GET(get("/api/health"), { params: Promise.resolve({}) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok", version: expect.any(String) });
    const outside = await GET(get("/api/health?verbose=1"), { params: Promise.resolve({}) });
    expect(await violation(outside)).toMatch(/GET \/api\/health accepted \(200\) a request outside the document: query parameter verbose/);
  });

  it("knows no operation the document does not have, and an error code its operation does not list", async () => {
    expect(await violation(await http.route("viewer", async () => me)(get("/api/nothing/here")))).toMatch(/GET \/api\/nothing\/here no such operation/);
    const conflict = await http.route("viewer", async () => {
      throw new (await import("@/lib/core/errors")).AppError("route_shadowed", "no");
    })(get("/api/auth/me"));
    expect(await violation(conflict)).toMatch(/answered 409, which the document does not list/);
  });
});
