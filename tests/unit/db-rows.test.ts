import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/core/errors";
import { defaultRules } from "@/lib/core/rules";
import { revisionRulesOf, runFieldsOf, runtimeKindOf } from "@/lib/db/rows";

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isAppError(e) ? { code: e.code, message: e.message } : { code: "not an AppError", message: String(e) };
  }
  return null;
};

describe("rows parsed once (lib/db/rows.ts)", () => {
  it("a service's runtime column is one of the runtime kinds, or an error naming it", () => {
    expect(runtimeKindOf({ runtime: "process" })).toBe("process");
    expect(runtimeKindOf({ runtime: "docker" })).toBe("docker");
    // runtime "swarm" is one since the controller drives Swarm services (lib/controller/cluster-sync.ts)
    expect(runtimeKindOf({ runtime: "swarm" })).toBe("swarm");
    // and "kubernetes" since the same path drives Deployments (lib/runtime/kubernetes.ts)
    expect(runtimeKindOf({ runtime: "kubernetes" })).toBe("kubernetes");
    expect(refusal(() => runtimeKindOf({ runtime: "nomad" }))).toEqual({ code: "internal", message: expect.stringContaining('"nomad"') });
  });

  it("command and env: JSON checked, no command is the runtime's default", () => {
    expect(runFieldsOf({ command: null, env: "{}" })).toEqual({ command: null, env: {} });
    expect(runFieldsOf({ command: '["node","app.js"]', env: '{"A":"1"}' })).toEqual({ command: ["node", "app.js"], env: { A: "1" } });
    expect(() => runFieldsOf({ command: '"node app.js"', env: "{}" })).toThrow();
    expect(() => runFieldsOf({ command: null, env: '{"A":1}' })).toThrow();
  });

  it("a revision's snapshot: the rules of each service, checked before a rollback applies them again", () => {
    const rules = defaultRules();
    const config = JSON.stringify({ listen: { host: "127.0.0.1", port: 8080 }, services: [{ id: "s1", name: "web", rules, servers: [] }] });
    expect(revisionRulesOf({ number: 3, config })).toEqual([{ serviceId: "s1", rules }]);
    const bad = JSON.stringify({ services: [{ id: "s1", name: "web", rules: { ...rules, algorithm: "fastest" } }] });
    expect(refusal(() => revisionRulesOf({ number: 4, config: bad }))).toEqual({ code: "conflict", message: expect.stringMatching(/^revision 4's rules do not pass today's checks.*algorithm/) });
    expect(refusal(() => revisionRulesOf({ number: 5, config: "{not json" }))?.code).toBe("conflict");
  });
});
