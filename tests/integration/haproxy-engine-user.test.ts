/**
 * A root panel's HAProxy: its master stays root (it binds the listeners and re-executes itself
 * on a reload), its workers, the data path, run as ENGINE_USER (global uid/gid). Real HAProxy,
 * a real replica process, ids read from /proc. Under CI the tests run as root and
 * scripts/ci-setup.sh creates the user; as another user the switch cannot happen (the case says so).
 * Replica 17100 (admin 17101), listener 18670 (docs/TESTING.md).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import { engineRunAs, type EngineRunAs } from "@/lib/engines/engine-user";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, waitFor } from "../helpers/load";
import { applyOk, configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

const LISTEN = 18670;
const isRoot = process.getuid?.() === 0;

/** Real uid of a process and its parent, from /proc (null when it is gone). */
function procIds(pid: number): { uid: number; ppid: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    return { uid, ppid };
  } catch {
    return null;
  }
}

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => procIds(p)?.ppid === pid);
}

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("a root panel's HAProxy workers run as ENGINE_USER", () => {
  let dataDir: string;
  let engine: HaproxyEngine;
  let replica: ReplicaProcess;
  let runAs: EngineRunAs | null;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-enguser-"));
    runAs = engineRunAs(process.env.ENGINE_USER || "switchyard-engine");
    replica = await startReplica({ port: 17100, adminPort: 17101, id: "i1", service: "web" });
    engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN }, mode: "supervised", runAs });
  });

  afterAll(async () => {
    await engine?.stop();
    await replica?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(needs("root (the switch needs it; CI runs as root)", isRoot ? null : `running as uid ${process.getuid?.()}`))("the master is root, the worker is not, before and after a reload, and traffic and the runtime API work", async () => {
    expect(runAs && runAs.uid).toBeGreaterThan(0);
    const config = configAt(LISTEN, { id: "svc-web", name: "web", rules: rulesSchema.parse({}), servers: [serverOf(replica)] });
    await engine.start(config);
    const master = (await engine.status()).pid!;
    expect(procIds(master)?.uid).toBe(0);
    await waitFor("the replica answers through HAProxy", async () => (await get(LISTEN).catch(() => null))?.replica === "i1", 15_000);
    const workers = childrenOf(master).map((p) => ({ pid: p, uid: procIds(p)?.uid }));
    console.log(`master ${master} uid 0; workers ${workers.map((w) => `${w.pid} uid ${w.uid}`).join(", ")} (ENGINE_USER ${runAs!.name} uid ${runAs!.uid})`);
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.every((w) => w.uid === runAs!.uid)).toBe(true);

    // a change that needs a reload (a new server): the new worker drops too, the old one leaves
    const second = await startReplica({ port: 17102, adminPort: 17103, id: "i2", service: "web" });
    try {
      const next = configAt(LISTEN, { id: "svc-web", name: "web", rules: rulesSchema.parse({ algorithm: "least_conn" }), servers: [serverOf(replica), serverOf(second)] });
      await applyOk(engine, next);
      const seen = new Set<string>();
      await waitFor("both replicas answer after the reload", async () => {
        const r = await get(LISTEN).catch(() => null);
        if (r?.replica) seen.add(r.replica);
        return seen.size === 2;
      }, 15_000);
      const after = childrenOf(master).map((p) => procIds(p)?.uid);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((u) => u === runAs!.uid)).toBe(true);
      // the runtime API (the worker's stats socket, made by the root master) still answers the panel
      expect((await engine.stats()).servers.map((s) => s.server).sort()).toEqual(["r-i1", "r-i2"]);
    } finally {
      await second.stop();
    }
  });
});
