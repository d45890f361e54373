/**
 * Request bodies are bounded before they are read (issue 10, Medium 6): one 100 MB
 * sign-in body took the panel from 315 to 626 MB. The sign-in route (unauthenticated)
 * is called directly with a body that is produced only as it is read, so the test
 * sees how much the panel pulled: nothing when Content-Length says too much, at most
 * the limit plus one chunk when the body is chunked, and the stream is cancelled.
 * (tests/integration/panel-hardening.test.ts sends the same bodies to a real panel.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRequest } from "@/tests/helpers/route-request";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const CHUNK = 64 * 1024;
const HUNDRED_MB = 100 * 1024 * 1024;

let database: TempDatabase | undefined;
let login: typeof import("@/app/api/auth/login/route");
let MAX_BODY_BYTES = 0;

beforeAll(async () => {
  database = await openTempDatabase("body");
  login = await import("@/app/api/auth/login/route");
  MAX_BODY_BYTES = (await import("@/lib/http")).MAX_BODY_BYTES;
});

afterAll(async () => {
  await database?.close();
});

/** A body of `total` bytes made on demand; `pulled` says how much the reader took, `cancelled` whether it gave up. */
function lazyBody(total: number) {
  const state = { pulled: 0, cancelled: false };
  const chunk = new Uint8Array(CHUNK).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += CHUNK;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

const post = (body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}): Promise<Response> =>
  login.POST(routeRequest("/api/auth/login", { method: "POST", body, headers: { "content-type": "application/json", ...headers } }));

describe("request body limits", () => {
  it("a Content-Length over the limit is refused with 413 before a byte is read", async () => {
    const { stream, state } = lazyBody(HUNDRED_MB);
    const res = await post(stream, { "content-length": String(HUNDRED_MB) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    expect(state.pulled).toBe(0);
  });

  it("a chunked body is read only up to the limit, then cancelled (413)", async () => {
    const { stream, state } = lazyBody(HUNDRED_MB);
    const res = await post(stream);
    expect(res.status).toBe(413);
    console.log(`chunked 100 MB body: the route read ${state.pulled / 1024} KB (limit ${MAX_BODY_BYTES / 1024} KB) and cancelled: ${state.cancelled}`);
    expect(state.pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + CHUNK);
    expect(state.cancelled).toBe(true);
  });

  it("a Content-Length that lies low still stops at the limit", async () => {
    const { stream, state } = lazyBody(HUNDRED_MB);
    const res = await post(stream, { "content-length": "100" });
    expect(res.status).toBe(413);
    expect(state.pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + CHUNK);
  });

  it("an ordinary body still works (a wrong password: 401) and a body of exactly the limit is read", async () => {
    const ok = await post(JSON.stringify({ username: "nobody", password: "wrong password" }));
    expect(ok.status).toBe(401);
    const atLimit = `{"username":"nobody","password":"${"x".repeat(MAX_BODY_BYTES - 40)}"}`.padEnd(MAX_BODY_BYTES, " ");
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    expect((await post(atLimit)).status).toBe(400); // read and parsed: the password is longer than the schema allows
  });
});
