/** Network faults (issue 14, item 2): the params schema and the fault proxy's pure pieces. */
import { describe, expect, it } from "vitest";
import { networkFaultParamsSchema } from "@/lib/faults/network/params";
import { drawsError, forwardedHeaders } from "@/lib/faults/network/proxy";
import { effectsOf } from "@/lib/faults/network/kind";
import { toServer } from "@/lib/db/balancer-config";
import { renderHaproxy } from "@/lib/engines/haproxy/render";
import { rulesSchema } from "@/lib/core/rules";
import { goldenRenderOptions } from "../fixtures/haproxy/configs";

describe("networkFaultParamsSchema", () => {
  it("takes each effect with a time limit", () => {
    for (const p of [{ latencyMs: 200 }, { errorRate: 0.5 }, { reset: true }, { blackhole: true }, { latencyMs: 60_000, errorRate: 1 }]) {
      expect(networkFaultParamsSchema.safeParse({ ...p, seconds: 60 }).success).toBe(true);
    }
  });

  it("refuses no effect, out-of-range values, a missing or bad time limit and unknown fields", () => {
    for (const p of [
      { seconds: 60 },
      { latencyMs: 0, errorRate: 0, reset: false, blackhole: false, seconds: 60 },
      { latencyMs: 60_001, seconds: 60 },
      { latencyMs: 1.5, seconds: 60 },
      { latencyMs: -1, seconds: 60 },
      { errorRate: 1.01, seconds: 60 },
      { errorRate: -0.1, seconds: 60 },
      { reset: "yes", seconds: 60 },
      { latencyMs: 100 },
      { latencyMs: 100, seconds: 0 },
      { latencyMs: 100, seconds: 3601 },
      { latencyMs: 100, seconds: 60, target: "10.0.0.1:80" },
    ]) {
      expect(networkFaultParamsSchema.safeParse(p).success, JSON.stringify(p)).toBe(false);
    }
  });

  it("fills the effects the proxy gets", () => {
    expect(effectsOf({ errorRate: 0.25, seconds: 5 })).toEqual({ latencyMs: 0, errorRate: 0.25, reset: false, blackhole: false });
  });
});

describe("fault proxy, pure parts", () => {
  it("draws an error below the rate only", () => {
    expect(drawsError(0, 0)).toBe(false);
    expect(drawsError(0.5, 0.49)).toBe(true);
    expect(drawsError(0.5, 0.5)).toBe(false);
    expect(drawsError(1, 0.999)).toBe(true);
  });

  it("drops hop-by-hop headers and those Connection names, keeps the rest with their case and repeats", () => {
    const raw = ["Host", "a", "Connection", "keep-alive, X-Secret-Hop", "Keep-Alive", "timeout=5", "X-Secret-Hop", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Transfer-Encoding", "chunked"];
    expect(forwardedHeaders(raw)).toEqual([
      ["Host", "a"],
      ["Set-Cookie", "a=1"],
      ["Set-Cookie", "b=2"],
    ]);
  });
});

describe("toServer", () => {
  const row = { id: "abc", dataAddr: "127.0.0.1:29400", weight: 100, adminState: "ready", inEngine: true };
  it("points at the replica's data address without a fault, at its fault proxy with one", () => {
    expect(toServer(row)).toMatchObject({ host: "127.0.0.1", port: 29400 });
    expect(toServer({ ...row, faultAddr: null })).toMatchObject({ host: "127.0.0.1", port: 29400 });
    expect(toServer({ ...row, faultAddr: "127.0.0.1:19003" })).toMatchObject({ host: "127.0.0.1", port: 19003, name: "r-abc" });
  });

  it("lets HAProxy resolve a Docker container's name later, never an address or a fault proxy", () => {
    const serverLine = (r: Parameters<typeof toServer>[0]) => {
      const server = toServer(r)!;
      const text = renderHaproxy({ listen: { host: "127.0.0.1", port: 8080 }, services: [{ id: "svc-web", name: "web", rules: rulesSchema.parse({}), servers: [server] }] }, goldenRenderOptions);
      return text.split("\n").find((l) => l.includes(`server ${server.name} `)) ?? "";
    };
    const docker = { ...row, runtime: "docker" };
    expect(serverLine({ ...docker, dataAddr: "sy-web-abc:8080" })).toContain("sy-web-abc:8080 ");
    expect(serverLine({ ...docker, dataAddr: "sy-web-abc:8080" })).toContain("init-addr last,libc,none");
    expect(serverLine(docker)).toContain("127.0.0.1:29400 ");
    expect(serverLine(docker)).not.toContain("init-addr");
    expect(serverLine({ ...docker, dataAddr: "sy-web-abc:8080", faultAddr: "127.0.0.1:19003" })).not.toContain("init-addr");
    expect(serverLine({ ...row, runtime: "process", dataAddr: "replica-host:8080" })).not.toContain("init-addr");
  });
});
