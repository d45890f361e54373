/**
 * The process runtime's state store keeps a copy of each state file in memory (issue 18):
 * a lookup costs one stat(), not a read of every replica's file; a file changed by another
 * writer is read again. Real files in a temp folder, no processes, no ports.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createStateStore, type StateFile } from "@/lib/runtime/process-state";
import { LABEL_MANAGED, LABEL_REPLICA } from "@/lib/runtime/types";

function state(replicaId: string, pid: number): StateFile {
  return {
    version: 1,
    labels: { [LABEL_MANAGED]: "true", [LABEL_REPLICA]: replicaId },
    replicaId,
    serviceId: "svc",
    serviceName: "svc",
    pid,
    procStartTicks: 1,
    host: "127.0.0.1",
    dataPort: 1,
    adminPort: 2,
    startedAt: new Date(0).toISOString(),
    command: ["x"],
    spec: { serviceId: "svc", serviceName: "svc", replicaId, env: {}, dataPort: 1, adminPort: 2, adminToken: "t", memoryLimitMb: 0, cpuLimit: null },
    exitCode: null,
    stoppedAt: null,
  };
}

describe("process state store", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "sy-state-cache-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("looks replicas up by id and by pid from memory: no file read, however many replicas", async () => {
    const store = createStateStore(root);
    for (let i = 0; i < 50; i++) await store.writeState(state(`r${i}`, 1000 + i));
    const before = store.reads();
    for (let i = 0; i < 50; i++) {
      expect((await store.lookup(`r${i}`))?.pid).toBe(1000 + i);
      expect((await store.lookup(String(1000 + i)))?.replicaId).toBe(`r${i}`);
    }
    expect(store.reads() - before).toBe(0);
    expect(await store.lookup("nobody")).toBeNull();
    expect(await store.lookup("999999")).toBeNull();
  });

  it("a second store (another panel process) reads each file once, then only the ones that changed", async () => {
    const other = createStateStore(root);
    expect(await other.readAllStates()).toHaveLength(50);
    expect(other.reads()).toBe(50);
    await other.readAllStates();
    expect(other.reads()).toBe(50);
    // another writer changes r7 in place (not through this store)
    const file = path.join(root, "r7", "state.json");
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, "utf8")), pid: 4242 }));
    expect((await other.lookup("r7"))?.pid).toBe(4242);
    expect((await other.lookup("4242"))?.replicaId).toBe("r7");
    expect(other.reads()).toBe(51);
    const all = await other.readAllStates();
    expect(all.find((s) => s.replicaId === "r7")?.pid).toBe(4242);
    expect(other.reads()).toBe(51);
  });

  it("forgets a replica whose folder is gone", async () => {
    const store = createStateStore(root);
    await store.readAllStates();
    await rm(path.join(root, "r3"), { recursive: true });
    expect(await store.lookup("r3")).toBeNull();
    expect(await store.lookup("1003")).toBeNull();
    expect((await store.readAllStates()).map((s) => s.replicaId)).not.toContain("r3");
  });
});
