import { describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import {
  appendSetCookie,
  checkErrorReason,
  classifyError,
  clientIpOf,
  clientResponseHeaders,
  hasRequestBody,
  isIdempotent,
  isRetryable,
  readCookie,
  stickyCookie,
  upgradeRequestHead,
  upstreamRequestHeaders,
} from "@/lib/engines/builtin/http-rules";

const err = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

describe("classifyError", () => {
  it("maps transport errors to retry conditions", () => {
    expect(classifyError(err("ECONNREFUSED"))).toBe("conn_failure");
    expect(classifyError(err("UND_ERR_CONNECT_TIMEOUT"))).toBe("conn_failure");
    expect(classifyError(err("UND_ERR_HEADERS_TIMEOUT"))).toBe("response_timeout");
    expect(classifyError(err("UND_ERR_SOCKET"))).toBe("empty_response");
    expect(classifyError(err("ECONNRESET"))).toBe("empty_response");
    expect(classifyError({ cause: { code: "ECONNREFUSED" } })).toBe("conn_failure");
    expect(classifyError(err("UND_ERR_ABORTED"))).toBe("other");
    expect(classifyError(null)).toBe("other");
  });

  it("words check failures like an operator reads them", () => {
    expect(checkErrorReason(err("ECONNREFUSED"))).toBe("connect ECONNREFUSED");
    expect(checkErrorReason(err("ECONNRESET"))).toBe("connection reset");
    expect(checkErrorReason(new Error("weird"))).toBe("weird");
  });
});

describe("isRetryable", () => {
  const rules = rulesSchema.parse({ retries: { on: ["conn_failure", "empty_response", "status_503"] } });

  it("follows rules.retries.on", () => {
    expect(isRetryable(rules, "conn_failure", false, true)).toBe(true);
    expect(isRetryable(rules, "status_503", false, true)).toBe(true);
    expect(isRetryable(rules, "status_502", false, true)).toBe(false);
    expect(isRetryable(rules, "response_timeout", false, true)).toBe(false);
  });

  it("never resends a body, and resends non-idempotent requests only when they never reached a server", () => {
    expect(isRetryable(rules, "conn_failure", true, true)).toBe(false);
    expect(isRetryable(rules, "conn_failure", false, false)).toBe(true);
    expect(isRetryable(rules, "empty_response", false, false)).toBe(false);
    expect(isRetryable(rules, "status_503", false, false)).toBe(false);
  });

  it("knows the idempotent methods and what a body is", () => {
    expect(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].every(isIdempotent)).toBe(true);
    expect(isIdempotent("POST")).toBe(false);
    expect(isIdempotent("PATCH")).toBe(false);
    expect(hasRequestBody({})).toBe(false);
    expect(hasRequestBody({ "content-length": "0" })).toBe(false);
    expect(hasRequestBody({ "content-length": "12" })).toBe(true);
    expect(hasRequestBody({ "transfer-encoding": "chunked" })).toBe(true);
  });
});

describe("forwarded headers", () => {
  it("drops hop-by-hop headers, keeps the host and adds X-Forwarded-* and X-Real-IP (the client's replaced)", () => {
    const out = upstreamRequestHeaders(
      {
        host: "tictactoe.local:18082",
        connection: "keep-alive, x-secret-hop",
        "keep-alive": "timeout=5",
        "x-secret-hop": "1",
        "transfer-encoding": "chunked",
        expect: "100-continue",
        cookie: "a=1",
        "x-forwarded-proto": "https",
        "x-real-ip": "10.9.9.9",
      },
      "127.0.0.7",
    );
    expect(out).toEqual({
      host: "tictactoe.local:18082",
      cookie: "a=1",
      "x-forwarded-for": "127.0.0.7",
      "x-real-ip": "127.0.0.7",
      "x-forwarded-proto": "http",
      "x-forwarded-host": "tictactoe.local:18082",
    });
  });

  it("appends to an existing X-Forwarded-For", () => {
    expect(upstreamRequestHeaders({ "x-forwarded-for": "10.1.1.1" }, "127.0.0.2")["x-forwarded-for"]).toBe("10.1.1.1, 127.0.0.2");
  });

  it("drops hop-by-hop response headers", () => {
    expect(clientResponseHeaders({ connection: "keep-alive", "keep-alive": "timeout=5", "content-type": "a/b", "set-cookie": ["x=1"], gone: undefined })).toEqual({
      "content-type": "a/b",
      "set-cookie": ["x=1"],
    });
  });

  it("writes an upgrade head with the client's headers and ours", () => {
    const head = upgradeRequestHead("GET", "/chat", ["Host", "ws.local", "Upgrade", "websocket", "Connection", "Upgrade", "X-Forwarded-For", "10.0.0.1", "X-Real-IP", "10.0.0.1"], "127.0.0.3");
    expect(head).toBe(
      "GET /chat HTTP/1.1\r\nHost: ws.local\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "X-Forwarded-For: 10.0.0.1, 127.0.0.3\r\nX-Real-IP: 127.0.0.3\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: ws.local\r\n\r\n",
    );
  });

  it("unwraps IPv4-mapped client addresses", () => {
    expect(clientIpOf("::ffff:127.0.0.5")).toBe("127.0.0.5");
    expect(clientIpOf("::1")).toBe("::1");
    expect(clientIpOf(undefined)).toBe("");
  });
});

describe("sticky cookie", () => {
  it("reads one cookie among many", () => {
    expect(readCookie("a=1; SYSTICKY=web-3f9a; b=2", "SYSTICKY")).toBe("web-3f9a");
    expect(readCookie("SYSTICKYX=1", "SYSTICKY")).toBeNull();
    expect(readCookie(undefined, "SYSTICKY")).toBeNull();
  });

  it("writes the replica id with the agreed attributes", () => {
    expect(stickyCookie(rulesSchema.parse({ sticky: { mode: "cookie" } }), "web-1")).toBe("SYSTICKY=web-1; Path=/; HttpOnly; SameSite=Lax");
    expect(stickyCookie(rulesSchema.parse({ sticky: { mode: "cookie", cookieName: "S", maxAgeS: 60 } }), "w")).toBe("S=w; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
  });

  it("adds to the upstream's own Set-Cookie headers", () => {
    const h: Record<string, string | string[]> = { "set-cookie": "a=1" };
    appendSetCookie(h, "S=w");
    expect(h["set-cookie"]).toEqual(["a=1", "S=w"]);
    const e: Record<string, string | string[]> = {};
    appendSetCookie(e, "S=w");
    expect(e["set-cookie"]).toEqual(["S=w"]);
  });
});
