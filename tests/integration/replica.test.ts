import { describe, it, expect } from "vitest";
import { startReplica } from "@/tests/helpers/replica-process";

describe("replica app", () => {
  it("starts and answers /", async () => {
    const r = await startReplica({ port: 21000, adminPort: 21001, id: "r-basic" });
    try {
      const res = await fetch(`http://127.0.0.1:${r.port}/`);
      expect(res.headers.get("x-replica")).toBe("r-basic");
    } finally {
      await r.stop();
    }
  });
});
