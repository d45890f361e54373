/**
 * A service's own actions (issue 14): what the API and the form accept, and what a card
 * shows of an answer. The address is always the instance's, so a path that could name
 * another host, scheme or a control sequence is refused; bodies are size-limited.
 */
import { describe, expect, it } from "vitest";
import { ACTION_LIMITS, actionPathSchema, createServiceSchema, serviceActionSchema, serviceActionsSchema, updateServiceSchema } from "@/lib/core/service";
import { replicaActionSchema } from "@/lib/core/mgmt";
import { customAnswerText, SHOWN_BODY_CHARS } from "@/components/replicas/custom-answer";

const stress = { name: "Stress", method: "POST", path: "/api/stress", port: "data" } as const;

describe("action paths", () => {
  it.each(["/", "/api/stress", "/api/stress/clear", "/api/x?y=1&z=%20", "/a:b@c", "/~user/_x-y.z"])("accepts %s", (p) => {
    expect(actionPathSchema.safeParse(p).success).toBe(true);
  });

  it.each([
    ["no leading slash", "api/stress"],
    ["empty", ""],
    ["a scheme", "http://evil.example/x"],
    ["a scheme after the slash", "/http://evil.example"], // harmless as a path, but '//' is refused
    ["protocol-relative", "//evil.example/x"],
    ["'//' inside", "/api//stress"],
    ["a backslash", "/api\\stress"],
    ["backslash host", "/\\evil.example"],
    ["a space", "/api stress"],
    ["a newline (header injection)", "/x\r\nHost: evil"],
    ["a NUL", "/x\u0000"],
    ["a tab", "/x\ty"],
    ["DEL", "/x\u007f"],
    ["non-ASCII", "/caf\u00e9"],
    ["an encoded control character", "/x%0d%0aHost:%20evil"],
    ["an encoded NUL", "/x%00"],
    ["an encoded backslash", "/x%5cy"],
    ["an encoded slash", "/%2f%2fevil"],
    ["a fragment", "/x#frag"],
    ["too long", `/${"a".repeat(ACTION_LIMITS.pathChars)}`],
  ])("refuses %s", (_why, p) => {
    expect(actionPathSchema.safeParse(p).success).toBe(false);
  });

  it("answers at once on a long hostile path (no backtracking)", () => {
    // a pattern that backtracks would take exponential time on such input; ours is one class
    const hostile = `/${"a/".repeat(250)}\u0000`;
    expect(serviceActionSchema.safeParse({ ...stress, path: hostile }).success).toBe(false);
  });
});

describe("an action", () => {
  it("takes the contract's shape, port data by default", () => {
    const a = serviceActionSchema.parse({ name: "Clear", method: "POST", path: "/api/stress/clear", confirm: true });
    expect(a).toEqual({ name: "Clear", method: "POST", path: "/api/stress/clear", port: "data", confirm: true });
    expect(serviceActionSchema.parse({ ...stress, port: "admin", body: { mb: 10 } }).body).toEqual({ mb: 10 });
    expect(serviceActionSchema.parse({ ...stress, body: "plain text" }).body).toBe("plain text");
  });

  it.each([
    ["an unknown method", { ...stress, method: "TRACE" }],
    ["a lower-case method", { ...stress, method: "post" }],
    ["CONNECT", { ...stress, method: "CONNECT" }],
    ["an unknown port", { ...stress, port: "metrics" }],
    ["a host field", { ...stress, host: "evil.example" }],
    ["a url field", { ...stress, url: "http://evil.example/" }],
    ["an empty name", { ...stress, name: "" }],
    ["a name with markup", { ...stress, name: "<img src=x onerror=alert(1)>" }],
    ["a name with a newline", { ...stress, name: "a\nb" }],
    ["a long name", { ...stress, name: "x".repeat(ACTION_LIMITS.nameChars + 1) }],
    ["a body on GET", { ...stress, method: "GET", body: "x" }],
    ["a body on DELETE", { ...stress, method: "DELETE", body: { a: 1 } }],
    ["a string body too large", { ...stress, body: "x".repeat(ACTION_LIMITS.bodyBytes + 1) }],
    ["a JSON body too large", { ...stress, body: { big: "x".repeat(ACTION_LIMITS.bodyBytes) } }],
    ["a JSON array body", { ...stress, body: [1, 2] }],
    ["a number body", { ...stress, body: 5 }],
    ["confirm as a string", { ...stress, confirm: "yes" }],
  ])("refuses %s", (_why, a) => {
    expect(serviceActionSchema.safeParse(a).success).toBe(false);
  });

  it(`a list holds at most ${ACTION_LIMITS.actions} actions, each name once (any case)`, () => {
    const many = Array.from({ length: ACTION_LIMITS.actions }, (_, i) => ({ ...stress, name: `A${i}` }));
    expect(serviceActionsSchema.safeParse(many).success).toBe(true);
    expect(serviceActionsSchema.safeParse([...many, { ...stress, name: "one more" }]).success).toBe(false);
    expect(serviceActionsSchema.safeParse([stress, { ...stress, name: "stress" }]).success).toBe(false);
  });

  it("is a field of create and update; the invocation names it", () => {
    expect(createServiceSchema.parse({ name: "todo", actions: [stress] }).actions).toHaveLength(1);
    expect(createServiceSchema.parse({ name: "todo" }).actions).toBeUndefined();
    expect(updateServiceSchema.safeParse({ actions: [{ ...stress, path: "//evil" }] }).success).toBe(false);
    expect(replicaActionSchema.parse({ action: "custom", name: "Stress" })).toEqual({ action: "custom", name: "Stress" });
    expect(replicaActionSchema.safeParse({ action: "custom", name: "Stress", path: "/x" }).success).toBe(false);
    expect(replicaActionSchema.safeParse({ action: "custom" }).success).toBe(false);
  });
});

describe("what a card shows of an answer", () => {
  const answer = (body: string, over = {}) => ({ status: 200, body, truncated: false, contentType: "text/html", ms: 3, ...over });

  it("keeps markup as text and replaces control characters", () => {
    const shown = customAnswerText(stress, answer("<script>alert(1)</script>\u001b[31mred\u0000\nnext\tline"));
    expect(shown.head).toBe("Stress: POST /api/stress answered HTTP 200 in 3 ms");
    // React escapes the text; the markup stays characters, never elements
    expect(shown.body).toBe("<script>alert(1)</script>\uFFFD[31mred\uFFFD\nnext\tline");
  });

  it("cuts a long body and says so, also when the API cut it", () => {
    const long = customAnswerText(stress, answer("x".repeat(SHOWN_BODY_CHARS + 50)));
    expect(long.body).toHaveLength(SHOWN_BODY_CHARS + 1);
    expect(long.head).toContain("(truncated)");
    expect(customAnswerText(stress, answer("short", { truncated: true })).head).toContain("(truncated)");
    expect(customAnswerText(stress, answer("", { status: 204 })).body).toBe("(empty body)");
  });
});
