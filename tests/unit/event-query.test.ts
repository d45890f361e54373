import { describe, expect, it } from "vitest";
import { EVENT_PAGE_DEFAULT, eventMatches, eventQueryParams, parseEventQuery, kindMatches, textMatches } from "@/lib/core/event-query";
import { dateTimeText } from "@/components/events/event-time";

const parse = (qs: string) => parseEventQuery(new URLSearchParams(qs));
const refused = (qs: string) => {
  try {
    parse(qs);
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return "accepted";
};

describe("the events query (issue 12, item 11)", () => {
  it("reads every filter, the cursor and the page size", () => {
    expect(parse("kind=replica.ready&service=abc123&actor=alice&q=drain%20done&before=42&limit=20")).toEqual({
      kind: "replica.ready",
      service: "abc123",
      actor: "alice",
      q: "drain done",
      before: 42,
      limit: 20,
    });
  });

  it("takes a kind group, treats blank fields as no filter, defaults the page size", () => {
    expect(parse("kind=replica&service=&actor=&q=%20%20")).toEqual({ kind: "replica", limit: EVENT_PAGE_DEFAULT });
    expect(parse("")).toEqual({ limit: EVENT_PAGE_DEFAULT });
  });

  it.each([
    ["an unknown parameter", "kind=replica&sort=desc"],
    ["a repeated parameter", "kind=replica&kind=auth"],
    ["an unknown kind", "kind=replica.exploded"],
    ["a kind with SQL in it", "kind=replica'%20OR%201=1--"],
    ["a LIKE pattern as kind", "kind=repl%25"],
    ["a service id with a slash", "service=..%2Fetc"],
    ["an actor with spaces", "actor=alice%20bob"],
    ["an over-long actor", `actor=${"a".repeat(65)}`],
    ["an over-long search", `q=${"x".repeat(101)}`],
    ["a NUL in the search", "q=a%00b"],
    ["a newline in the search", "q=a%0Ab"],
    ["a negative cursor", "before=-1"],
    ["a fractional cursor", "before=1.5"],
    ["a cursor that is not a number", "before=abc"],
    ["an enormous cursor", "before=1e400"],
    ["a zero page", "limit=0"],
    ["a page too large", "limit=1001"],
    ["a page that is not a number", "limit=ten"],
    ["a prototype name", "__proto__=x"],
  ])("refuses %s with bad_request (400)", (_what, qs) => {
    expect(refused(qs)).toBe("bad_request");
  });

  it("turns a query back into the same URL parameters (the page's shareable links)", () => {
    const q = parse("kind=auth&actor=bob&q=50%25%20off&before=7&limit=10");
    expect(parse(eventQueryParams(q).toString())).toEqual(q);
    expect(eventQueryParams({ limit: EVENT_PAGE_DEFAULT }).toString()).toBe("");
  });

  it("matches events as the live list must: kind or group, service, actor, plain case-insensitive text", () => {
    const e = { kind: "replica.ready", serviceId: "s1", actor: "controller", message: "web-3 passes its health check (L7OK 200)" };
    expect(eventMatches({}, e)).toBe(true);
    expect(eventMatches({ kind: "replica" }, e)).toBe(true);
    expect(eventMatches({ kind: "repl" }, e)).toBe(false);
    expect(eventMatches({ kind: "replica.removed" }, e)).toBe(false);
    expect(eventMatches({ service: "s2" }, e)).toBe(false);
    expect(eventMatches({ actor: "alice" }, e)).toBe(false);
    expect(eventMatches({ q: "HEALTH check" }, e)).toBe(true);
    expect(eventMatches({ q: "L7OK%" }, e)).toBe(false); // no wildcards
    expect(kindMatches(undefined, "x.y")).toBe(true);
    expect(textMatches("a.c", "abc")).toBe(false);
  });
});

describe("an event's date and time", () => {
  it("is the same text on the server and in the first browser render (UTC), local after", () => {
    expect(dateTimeText("2026-11-29T02:23:06.123Z", "utc")).toBe("2026-11-29 02:23:06 UTC");
    expect(dateTimeText("2026-11-29T02:23:06.123Z", "local")).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });
});
