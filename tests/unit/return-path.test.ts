import { describe, expect, it } from "vitest";
import { loginPathFor, safeReturnPath } from "@/lib/auth/return-path";

describe("where sign-in returns to (issue 12, item 12)", () => {
  it.each([
    ["/events", "/events"],
    ["/events?kind=replica&q=drain#top", "/events?kind=replica&q=drain#top"],
    ["/services/abc123", "/services/abc123"],
    ["/services/abc123?_rsc=x1y2", "/services/abc123"],
    ["/balancer/../settings", "/settings"],
  ])("keeps a path of this panel: %s", (raw, out) => {
    expect(safeReturnPath(raw)).toBe(out);
  });

  it.each([
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "//evil.example",
    "//evil.example/services",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/.//evil.example",
    "/%09/evil.example".replace("%09", "\t"),
    "/ /evil.example",
    "/services\nSet-Cookie: x=1",
    "services",
    "",
    "/login",
    "/login?next=/events",
    "/setup",
    "/api/users",
    "/api",
    "/" + "a".repeat(2000),
  ])("refuses %j", (raw) => {
    expect(safeReturnPath(raw)).toBeNull();
  });

  it("builds the sign-in address with the path encoded, or none", () => {
    expect(loginPathFor("/events?kind=auth")).toBe("/login?next=%2Fevents%3Fkind%3Dauth");
    expect(loginPathFor("//evil.example")).toBe("/login");
    expect(loginPathFor(null)).toBe("/login");
    expect(loginPathFor("/services")).toBe("/login");
  });
});
