import { describe, expect, it } from "vitest";
import { environHas } from "@/lib/runtime/find-spawned";

// /proc/<pid>/environ: NUL-terminated NAME=value entries
const environ = ["PATH=/usr/bin", "PORT=25601", "ADMIN_PORT=25602", "REPLICA_ID=abc123", "SERVICE_NAME=web", ""].join("\0");

describe("environHas", () => {
  it("finds a replica by its id and both ports", () => {
    expect(environHas(environ, { REPLICA_ID: "abc123", PORT: "25601", ADMIN_PORT: "25602" })).toBe(true);
  });

  it("matches whole entries only: no prefix of a value, no suffix of a name", () => {
    expect(environHas(environ, { PORT: "2560" })).toBe(false);
    expect(environHas(environ, { REPLICA_ID: "abc12" })).toBe(false);
    expect(environHas(["XPORT=25601", ""].join("\0"), { PORT: "25601" })).toBe(false);
  });

  it("needs every mark: another replica on the same ports is not it", () => {
    expect(environHas(environ, { REPLICA_ID: "other", PORT: "25601", ADMIN_PORT: "25602" })).toBe(false);
  });
});
