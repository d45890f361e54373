import { describe, expect, it } from "vitest";
import { isClusterRuntime, runtimeKindSchema } from "@/lib/core/service";

describe("isClusterRuntime", () => {
  it("is true for the runtimes a cluster runs as one object, false for every other kind", () => {
    const clusters = runtimeKindSchema.options.filter((k) => isClusterRuntime(k));
    expect(clusters).toEqual(["swarm", "kubernetes"]);
    expect(isClusterRuntime("nomad")).toBe(false);
    expect(isClusterRuntime("")).toBe(false);
  });
});
