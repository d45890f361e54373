import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/core/errors";
import { ENGINE_KINDS, descriptorOf, engineDescriptors } from "@/lib/engines/descriptors";
import { engineError } from "@/lib/engines/errors";
import { ExecError } from "@/lib/process/exec";

describe("engineError: the one place an engine's refusal becomes an AppError", () => {
  it("keeps the command, its exit code and its stderr in details", () => {
    const cause = new ExecError(["haproxy", "-c", "-f", "check.cfg"], "Command failed", 1, null, null, "", "[ALERT] bad keyword secret-1\n");
    const e = engineError({ error: "[ALERT] bad keyword", cause }, { details: { revision: 4 }, shown: (t) => t.replace("secret-1", "<secret>") });
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: "engine_error", message: "[ALERT] bad keyword" });
    expect(e.details).toEqual({ revision: 4, command: "haproxy -c -f check.cfg", exitCode: 1, stderr: "[ALERT] bad keyword <secret>" });
  });

  it("without a command: the message and the caller's details only", () => {
    expect(engineError({ error: "cannot listen" }, { message: "cannot start: cannot listen" })).toMatchObject({ code: "engine_error", message: "cannot start: cannot listen", details: undefined });
    expect(engineError({ error: "x" }, { details: { rolledBack: true } }).details).toEqual({ rolledBack: true });
  });
});

describe("engine descriptors", () => {
  it("hold each engine's facts once, keyed by kind", () => {
    for (const kind of ENGINE_KINDS) expect(engineDescriptors[kind].kind).toBe(kind);
    expect(engineDescriptors.haproxy).toMatchObject({ checkName: "haproxy -c", fileExtension: "cfg", runs: true, panelProbes: false });
    expect(engineDescriptors.nginx).toMatchObject({ checkName: "nginx -t", fileExtension: "conf", panelProbes: true });
    expect(engineDescriptors.traefik.runs).toMatch(/export-only/);
    expect(descriptorOf("builtin")?.label).toBe("Builtin proxy");
    expect(descriptorOf("toString")).toBeUndefined();
  });
});
