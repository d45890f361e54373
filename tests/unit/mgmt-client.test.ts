import { describe, it, expect } from "vitest";
import { AppError } from "@/lib/core/errors";
import {
  adminAddrOf,
  clear,
  describeFetchError,
  describeHttpFailure,
  info,
  runMgmtAction,
  setFaults,
  stressCpu,
  stressMemory,
  type MgmtTarget,
} from "@/lib/mgmt/client";

type Seen = { url: string; method: string; headers: Record<string, string>; body: unknown };

/** A fetch that records the request and answers with a canned response (no I/O). */
function fakeFetch(status: number, body: unknown, seen: Seen[] = []): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: init?.headers as Record<string, string>,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { "Content-Type": "application/json" } });
  }) as typeof fetch;
}

function failingFetch(error: unknown): typeof fetch {
  return (async () => {
    throw error;
  }) as typeof fetch;
}

const target = (f: typeof fetch): MgmtTarget => ({ adminAddr: "127.0.0.1:21001", token: "s3cret", fetch: f });

async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected a rejection");
}

describe("mgmt client requests", () => {
  it("posts stress memory with the bearer token and returns the replica's answer", async () => {
    const seen: Seen[] = [];
    const r = await stressMemory(target(fakeFetch(200, { memoryMb: 200, rssMb: 246.1 }, seen)), 200);
    expect(r).toEqual({ memoryMb: 200, rssMb: 246.1 });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe("http://127.0.0.1:21001/admin/stress/memory");
    expect(seen[0].method).toBe("POST");
    expect(seen[0].headers.Authorization).toBe("Bearer s3cret");
    expect(seen[0].body).toEqual({ mb: 200 });
  });

  it("maps each call to its endpoint", async () => {
    const seen: Seen[] = [];
    await stressCpu(target(fakeFetch(200, { seconds: 5, cpuUntil: "2030-01-01T00:00:00.000Z" }, seen)), 5);
    await setFaults(target(fakeFetch(200, { faults: { latencyMs: 10, errorRate: 0, failHealth: false } }, seen)), { latencyMs: 10 });
    await clear(target(fakeFetch(200, { releasedMb: 0, stoppedCpu: false, clearedFaults: true }, seen)));
    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname} ${JSON.stringify(s.body)}`)).toEqual([
      'POST /admin/stress/cpu {"seconds":5}',
      'POST /admin/faults {"latencyMs":10}',
      "POST /admin/clear {}",
    ]);
  });

  it("dispatches management-plane actions, dropping the action name from fault bodies", async () => {
    const seen: Seen[] = [];
    await runMgmtAction(target(fakeFetch(200, { faults: { latencyMs: 0, errorRate: 1, failHealth: true } }, seen)), {
      action: "faults",
      errorRate: 1,
      failHealth: true,
    });
    expect(seen[0].body).toEqual({ errorRate: 1, failHealth: true });
  });

  it("accepts an { host, port } address", async () => {
    const seen: Seen[] = [];
    await clear({ adminAddr: { host: "::1", port: 9 }, token: "t", fetch: fakeFetch(200, { releasedMb: 0, stoppedCpu: false, clearedFaults: false }, seen) });
    expect(seen[0].url).toBe("http://[::1]:9/admin/clear");
  });
});

describe("mgmt client input validation", () => {
  it.each([0, 4097, 2.5, Number.NaN])("refuses stressMemory(%s) without a request", async (mb) => {
    const seen: Seen[] = [];
    const e = await appError(stressMemory(target(fakeFetch(200, {}, seen)), mb));
    expect(e.code).toBe("bad_request");
    expect(seen).toHaveLength(0);
  });

  it("refuses bad faults and bad addresses", async () => {
    expect((await appError(setFaults(target(fakeFetch(200, {})), { errorRate: 2 }))).code).toBe("bad_request");
    expect((await appError(stressCpu(target(fakeFetch(200, {})), 301))).code).toBe("bad_request");
    expect(() => adminAddrOf({ adminAddr: "nohost" })).toThrow(AppError);
  });
});

describe("mgmt client failures become unavailable errors naming the replica", () => {
  it("401", async () => {
    const e = await appError(info(target(fakeFetch(401, { error: "missing or wrong bearer token" }))));
    expect(e.code).toBe("unavailable");
    expect(e.message).toContain("127.0.0.1:21001");
    expect(e.message).toContain("401");
    expect(e.message).toContain("token");
    expect(e.message).not.toContain("s3cret");
    expect(e.details).toMatchObject({ adminAddr: "127.0.0.1:21001", status: 401 });
  });

  it("400 carries the replica's own error text", async () => {
    const e = await appError(clear(target(fakeFetch(400, { error: 'unknown field "x"' }))));
    expect(e.message).toContain('unknown field "x"');
  });

  it("connection refused", async () => {
    const err = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:21001"), { code: "ECONNREFUSED" }) });
    const e = await appError(info(target(failingFetch(err))));
    expect(e.code).toBe("unavailable");
    expect(e.message).toBe("replica admin 127.0.0.1:21001: GET /admin/info failed: connection refused");
  });

  it("timeout", async () => {
    const err = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    const e = await appError(info({ ...target(failingFetch(err)), timeoutMs: 1234 }));
    expect(e.message).toContain("timeout after 1234 ms");
  });

  it("an answer that is not the protocol", async () => {
    const e = await appError(info(target(fakeFetch(200, "<html>hello</html>"))));
    expect(e.code).toBe("unavailable");
    expect(e.message).toContain("unexpected answer");
  });
});

describe("describe helpers", () => {
  it("finds the code in nested causes", () => {
    const err = new TypeError("fetch failed", { cause: { code: "ECONNRESET" } });
    expect(describeFetchError(err, 3000)).toBe("connection reset");
    expect(describeFetchError(new Error("odd"), 3000)).toBe("odd");
  });

  it("names HTTP failures", () => {
    expect(describeHttpFailure(404, undefined)).toBe("HTTP 404 not found: the replica does not implement this endpoint");
    expect(describeHttpFailure(418, { error: "teapot" })).toBe("HTTP 418 (teapot)");
  });
});
