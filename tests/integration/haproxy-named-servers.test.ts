/**
 * Servers given by name (containers on a Docker bridge network) whose name does not resolve
 * at the time HAProxy starts: the compose stack after stop/start, whose replica containers
 * are gone. HAProxy must start anyway and serve the servers it can reach (init-addr
 * last,libc,none; the name is resolved again at run time), instead of refusing its config
 * until the panel has replaced every named replica. Real HAProxy, a real replica process.
 * Replica 17030 (admin 17031), listener 18663 (docs/TESTING.md).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, waitFor } from "../helpers/load";
import { configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";
import { goldenConfigs } from "../fixtures/haproxy/configs";

const LISTEN = 18663;

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("HAProxy with servers given by a name that does not resolve", () => {
  let dataDir: string;
  let engine: HaproxyEngine;
  let replica: ReplicaProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-named-"));
    replica = await startReplica({ port: 17030, adminPort: 17031, id: "i1", service: "web" });
    engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN }, mode: "supervised" });
  });

  afterAll(async () => {
    await engine?.stop();
    await replica?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("haproxy -c accepts the golden docker-names config (one of its names never resolves)", async () => {
    const config = goldenConfigs["docker-names"];
    const result = await engine.check(engine.render(config));
    expect(result.ok, result.ok ? "" : result.error).toBe(true);
  });

  it("starts with a gone container's name in its config and serves the replica it can reach", async () => {
    const gone = serverOf({ id: "gone", port: 8080 }, { host: "sy-web-gone-0a1b2c", resolveLater: true });
    const config = configAt(LISTEN, { id: "svc-web", name: "web", rules: rulesSchema.parse({}), servers: [gone, serverOf(replica)] });
    await engine.start(config);
    expect((await engine.status()).running).toBe(true);
    await waitFor("the reachable replica answers through HAProxy", async () => (await get(LISTEN).catch(() => null))?.replica === "i1", 15_000);
    const stats = (await engine.stats()).servers;
    console.log(`servers: ${stats.map((s) => `${s.server} ${s.health.status}${s.health.reason ? ` (${s.health.reason})` : ""}`).join(", ")}`);
    expect(stats.find((s) => s.server === "r-gone")?.health.status).not.toBe("up");
  });
});
