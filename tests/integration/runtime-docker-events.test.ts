/**
 * The Docker runtime's event stream against a stand-in Engine API on a unix socket:
 * the stream ending (dockerd restarted, a proxy timeout) must not lose events — the
 * runtime reconnects with `since` and drops the replayed duplicates.
 */
import { afterAll, describe, expect, it } from "vitest";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { rmSync } from "node:fs";
import { createDockerRuntime } from "@/lib/runtime/docker";
import type { RuntimeEvent } from "@/lib/runtime/types";
import { waitFor } from "../helpers/load";

const socketPath = path.join(os.tmpdir(), `sy-fake-docker-${process.pid}.sock`);

function event(action: string, time: number, replica: string, extra: Record<string, string> = {}) {
  return (
    JSON.stringify({
      Type: "container",
      Action: action,
      Actor: {
        ID: `c0ffee${replica}`,
        Attributes: { "switchyard.managed": "true", "switchyard.service": "svc1", "switchyard.replica": replica, ...extra },
      },
      time,
      timeNano: time * 1e9,
    }) + "\n"
  );
}

describe("docker runtime event stream", () => {
  const requests: URL[] = [];
  const t = Math.floor(Date.now() / 1000);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://docker");
    if (!url.pathname.endsWith("/events")) {
      res.writeHead(404).end(JSON.stringify({ message: "not here" }));
      return;
    }
    requests.push(url);
    res.writeHead(200, { "content-type": "application/json" });
    if (requests.length === 1) {
      // First stream: one event, then the stream ends.
      res.end(event("die", t, "r1", { exitCode: "137" }));
      return;
    }
    // After the reconnect: the engine replays from `since` (r1 again), then new events; stays open.
    res.write(event("die", t, "r1", { exitCode: "137" }));
    res.write(event("oom", t + 1, "r2"));
    res.write(event("die", t + 1, "r2", { exitCode: "137" }));
    res.write(event("die", t + 1, "unlabelled", { "switchyard.managed": "" }));
    // the last one: once the runtime reports it, it has read everything before it
    res.write(event("start", t + 2, "r3"));
    req.on("close", () => res.end());
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(socketPath, { force: true });
  });

  it("reconnects after the stream ends, asks since the last event, and does not repeat events", async () => {
    rmSync(socketPath, { force: true });
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
    const runtime = createDockerRuntime({ socketPath, network: "host", portRange: { from: 21290, to: 21299 } });
    const seen: RuntimeEvent[] = [];
    const off = runtime.onEvent((e) => seen.push(e));
    try {
      await waitFor("the last event of the second stream", async () => seen.some((e) => e.replicaId === "r3"), 10_000);
      expect(seen).toEqual([
        { kind: "died", replicaId: "r1", serviceId: "svc1", exitCode: 137, reason: "killed (SIGKILL, exit code 137)" },
        { kind: "oom", replicaId: "r2", serviceId: "svc1", reason: "killed by the kernel: out of memory (it reached its memory limit)" },
        { kind: "died", replicaId: "r2", serviceId: "svc1", exitCode: 137, reason: "killed by the kernel: out of memory (it reached its memory limit)" },
        { kind: "started", replicaId: "r3", serviceId: "svc1" },
      ]);
      expect(requests).toHaveLength(2);
      expect(requests[0].pathname).toBe("/v1.41/events");
      expect(JSON.parse(requests[0].searchParams.get("filters") ?? "{}")).toEqual({
        type: ["container"],
        label: ["switchyard.managed=true"],
        event: ["start", "die", "oom"],
      });
      expect(Number(requests[1].searchParams.get("since"))).toBe(t);
    } finally {
      off();
    }
  });
});
