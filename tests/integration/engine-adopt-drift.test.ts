/**
 * Adopting a running engine at panel start (lib/controller/engine-supervisor.ts): the
 * engine kept serving while the panel was down, and a replica came back on a new port
 * meanwhile. Same server names, another address: the supervisor must re-apply, so the
 * replica gets traffic at its new port; an engine that serves exactly the database's
 * servers is adopted without a re-apply. Real HAProxy, nginx and builtin proxy, real
 * replica processes. Replicas 17000-17029, listeners 18660-18662 (docs/TESTING.md).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { EngineSupervisor } from "@/lib/controller/engine-supervisor";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerConfig, BalancerServer, RunningEngine } from "@/lib/engines/types";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, waitFor } from "../helpers/load";
import { configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

type Make = (dataDir: string, port: number) => RunningEngine;
const engines: { kind: string; listen: number; base: number; missing: string | null; make: Make }[] = [
  { kind: "haproxy", listen: 18660, base: 17000, missing: hasBinary("haproxy"), make: (dataDir, port) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }) },
  { kind: "nginx", listen: 18661, base: 17010, missing: hasBinary("nginx"), make: (dataDir, port) => createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }) },
  { kind: "builtin", listen: 18662, base: 17020, missing: null, make: (dataDir, port) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port } }) },
];

const configOf = (listen: number, servers: BalancerServer[]): BalancerConfig => configAt(listen, { id: "svc-web", name: "web", rules: rulesSchema.parse({}), servers });

/** A supervisor as a new panel process makes it: a new engine object, the database's config. */
async function adopt(engine: RunningEngine, config: BalancerConfig): Promise<string[]> {
  const messages: string[] = [];
  const supervisor = new EngineSupervisor({
    engine: () => engine,
    repo: {
      balancerConfig: async () => config,
      recordEvent: async (e: { message: string }) => {
        messages.push(e.message);
      },
    } as unknown as ConstructorParameters<typeof EngineSupervisor>[0]["repo"],
  });
  expect(await supervisor.ensureEngine()).toBe(true);
  expect((await engine.status()).adopted).toBe(true);
  return messages;
}

for (const e of engines) {
  describe.skipIf(needs(`the ${e.kind} engine`, e.missing))(`adopting a running ${e.kind}`, () => {
    let dataDir: string;
    let first: RunningEngine;
    const replicas: ReplicaProcess[] = [];

    beforeAll(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), `sy-adopt-${e.kind}-`));
      for (const [i, id] of ["a", "b"].entries()) replicas.push(await startReplica({ port: e.base + i, adminPort: e.base + 5 + i, id, service: "web" }));
      first = e.make(dataDir, e.listen);
      await first.start(configOf(e.listen, replicas.map((r) => serverOf(r))));
      await waitFor("both replicas answer through the engine", async () => {
        const seen = new Set<string | null>();
        for (let i = 0; i < 8; i++) seen.add((await get(e.listen)).replica);
        return seen.has("a") && seen.has("b");
      }, 15_000);
    }, 60_000);

    afterAll(async () => {
      await first?.stop();
      await (first as { close?: () => unknown } | undefined)?.close?.();
      await Promise.all(replicas.map((r) => r.stop()));
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("an engine serving exactly the database's servers is adopted without a re-apply", async () => {
      const second = e.make(dataDir, e.listen);
      const messages = await adopt(second, configOf(e.listen, replicas.map((r) => serverOf(r))));
      console.log(`[${e.kind}] ${messages.join(" | ")}`);
      expect(messages.join("\n")).not.toContain("re-applied");
      await (second as { close?: () => unknown }).close?.();
    });

    it("a replica restarted on a new port while the panel was down: same name, new address, re-applied", async () => {
      // replica b comes back on another port (same id, so same server name)
      const old = replicas.splice(1, 1)[0];
      await old.stop();
      replicas.push(await startReplica({ port: e.base + 2, adminPort: e.base + 7, id: "b", service: "web" }));
      const second = e.make(dataDir, e.listen);
      const messages = await adopt(second, configOf(e.listen, replicas.map((r) => serverOf(r))));
      console.log(`[${e.kind}] ${messages.join(" | ")}`);
      expect(messages.join("\n")).toContain(`web/r-b is served at 127.0.0.1:${e.base + 1}, the panel has 127.0.0.1:${e.base + 2}`);
      expect((await second.servedConfig())?.services[0].servers.find((s) => s.name === "r-b")?.port).toBe(e.base + 2);
      await waitFor("replica b answers through the engine at its new port", async () => {
        for (let i = 0; i < 8; i++) if ((await get(e.listen)).replica === "b") return true;
        return false;
      }, 15_000);
      await (second as { close?: () => unknown }).close?.();
    });
  });
}
