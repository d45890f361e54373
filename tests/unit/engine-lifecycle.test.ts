/**
 * The file-engine lifecycle's pure parts (lib/engines/lifecycle): the edits of the stored
 * model's server list, and the order of apply with rollback, run against an in-memory
 * config file and fake engine steps that record what was done. The real engines are
 * measured by tests/integration/haproxy-*, nginx-*, builtin-* and engine-contract.
 */
import { describe, expect, it } from "vitest";
import { defaultRules } from "@/lib/core/rules";
import type { BalancerConfig, BalancerServer, BalancerService, CheckResult } from "@/lib/engines/types";
import { applyWithRollback, launchWithRollback, type ApplySteps, type ConfigFile, type ReloadResult } from "@/lib/engines/lifecycle/apply";
import { addServerEdit, hasServer, patchServerEdit, removeServerEdit, serverKeys, serverMismatch, withServers } from "@/lib/engines/lifecycle/model-edits";

const server = (name: string, port: number): BalancerServer => ({ replicaId: name, name, host: "127.0.0.1", port, weight: 100, adminState: "ready" });
const service = (name: string, servers: BalancerServer[]): BalancerService => ({ id: `id-${name}`, name, rules: defaultRules(), servers });
const config = (...services: BalancerService[]): BalancerConfig => ({ listen: { host: "127.0.0.1", port: 8080 }, services });

describe("model edits", () => {
  const model = config(service("b", [server("r-2", 2), server("r-1", 1)]));

  it("adds a server in name order, replacing one of the same name", () => {
    const next = withServers(model, model.services[0], addServerEdit(server("r-0", 9)));
    expect(next.services[0].servers.map((s) => s.name)).toEqual(["r-0", "r-1", "r-2"]);
    const moved = withServers(next, model.services[0], addServerEdit(server("r-1", 7)));
    expect(moved.services[0].servers.filter((s) => s.name === "r-1")).toEqual([server("r-1", 7)]);
  });

  it("adds a service the model lacks, in name order, from the service given", () => {
    const next = withServers(model, service("a", [server("r-5", 5)]), addServerEdit(server("r-6", 6)));
    expect(next.services.map((s) => s.name)).toEqual(["a", "b"]);
    expect(next.services[0].servers.map((s) => s.name)).toEqual(["r-5", "r-6"]);
  });

  it("removes and patches one server, leaves the others and the input alone", () => {
    const removed = withServers(model, model.services[0], removeServerEdit("r-2"));
    expect(serverKeys(removed)).toEqual(["b/r-1"]);
    const drained = withServers(model, model.services[0], patchServerEdit("r-1", { adminState: "drain", weight: 0 }));
    expect(drained.services[0].servers.find((s) => s.name === "r-1")).toMatchObject({ adminState: "drain", weight: 0, port: 1 });
    expect(drained.services[0].servers.find((s) => s.name === "r-2")).toEqual(server("r-2", 2));
    expect(model.services[0].servers.map((s) => s.name)).toEqual(["r-2", "r-1"]);
  });

  it("says whether a server is in the model and what a verify finds different", () => {
    expect(hasServer(model, "b", "r-1")).toBe(true);
    expect(hasServer(model, "b", "r-9")).toBe(false);
    expect(hasServer(null, "b", "r-1")).toBe(false);
    expect(serverMismatch(model, ["b/r-2", "b/r-1"])).toBeNull();
    expect(serverMismatch(model, ["b/r-1"])).toBe("the engine reports servers [b/r-1], expected [b/r-1, b/r-2]");
  });
});

/** An in-memory config file that records every write. */
class MemoryFile implements ConfigFile {
  readonly log: string[] = [];
  constructor(
    public text: string | null,
    public backup: string | null = null,
  ) {}
  async read() {
    return this.text;
  }
  async write(text: string) {
    this.log.push(`write ${text}`);
    this.text = text;
  }
  async remove() {
    this.log.push("remove");
    this.text = null;
  }
  async writeBackup(text: string) {
    this.log.push(`backup ${text}`);
    this.backup = text;
  }
}

/** Steps that record their calls; `check`, `reload` and `back` say how each answers. */
function steps(file: MemoryFile, opts: { check?: CheckResult; reload?: ReloadResult; back?: ReloadResult; withoutPrevious?: "keep" | "remove" } = {}): ApplySteps {
  return {
    check: async (text) => {
      file.log.push(`check ${text}`);
      return opts.check ?? { ok: true };
    },
    beforeWrite: async () => void file.log.push("before write"),
    reload: async () => {
      file.log.push(`reload ${file.text}`);
      return opts.reload ?? { ok: true };
    },
    commit: async () => void file.log.push("commit"),
    reloadPrevious: async () => {
      file.log.push(`reload previous ${file.text}`);
      return opts.back ?? { ok: true };
    },
    withoutPrevious: opts.withoutPrevious ?? "keep",
  };
}

describe("apply with rollback", () => {
  it("checks, backs up, writes, reloads and commits, in that order", async () => {
    const file = new MemoryFile("old");
    expect(await applyWithRollback(file, "new", steps(file))).toEqual({ ok: true, reloaded: true });
    expect(file.log).toEqual(["check new", "before write", "backup old", "write new", "reload new", "commit"]);
    expect(file.text).toBe("new");
  });

  it("touches nothing when the engine's check refuses", async () => {
    const file = new MemoryFile("old");
    const result = await applyWithRollback(file, "bad", steps(file, { check: { ok: false, error: "unknown keyword" } }));
    expect(result).toEqual({ ok: false, error: "unknown keyword", rolledBack: false });
    expect(file.log).toEqual(["check bad"]);
    expect(file.text).toBe("old");
  });

  it("puts the previous file back and reloads it when the reload fails", async () => {
    const file = new MemoryFile("old");
    const result = await applyWithRollback(file, "new", steps(file, { reload: { ok: false, error: "cannot bind" } }));
    expect(result).toEqual({ ok: false, error: "cannot bind", rolledBack: true });
    expect(file.log).toEqual(["check new", "before write", "backup old", "write new", "reload new", "write old", "reload previous old"]);
    expect(file.text).toBe("old");
  });

  it("says so when the rollback's reload fails too", async () => {
    const file = new MemoryFile("old");
    const result = await applyWithRollback(file, "new", steps(file, { reload: { ok: false, error: "cannot bind" }, back: { ok: false, error: "master gone" } }));
    expect(result).toMatchObject({ ok: false, rolledBack: true, error: "cannot bind\nrollback reload failed too: master gone" });
  });

  it("without a previous file keeps the new one (not rolled back) or removes it (rolled back), as the engine says", async () => {
    const kept = new MemoryFile(null);
    expect(await applyWithRollback(kept, "new", steps(kept, { reload: { ok: false, error: "x" } }))).toEqual({ ok: false, error: "x", rolledBack: false });
    expect(kept.text).toBe("new");
    const removed = new MemoryFile(null);
    expect(await applyWithRollback(removed, "new", steps(removed, { reload: { ok: false, error: "x" }, withoutPrevious: "remove" }))).toEqual({ ok: false, error: "x", rolledBack: true });
    expect(removed.text).toBeNull();
    expect(removed.log).not.toContain("backup null");
  });

  it("reports a reload that had nothing to reload (the file waits for the start)", async () => {
    const file = new MemoryFile("old");
    expect(await applyWithRollback(file, "new", steps(file, { reload: { ok: true, reloaded: false } }))).toEqual({ ok: true, reloaded: false });
  });

  it("a start that fails restores the file the engine had", async () => {
    const file = new MemoryFile("old");
    const failed = await launchWithRollback(file, async () => {
      await file.write("new");
      throw new Error("haproxy exited (code 1)");
    });
    expect(failed).toEqual({ ok: false, error: "haproxy exited (code 1)", rolledBack: false });
    expect(file.text).toBe("old");
    const started = await launchWithRollback(file, () => file.write("new"));
    expect(started).toEqual({ ok: true, reloaded: false });
    expect(file.text).toBe("new");
  });
});
