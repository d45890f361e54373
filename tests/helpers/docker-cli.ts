import { execFile } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Run a program (argv, no shell) from the project folder: whether it succeeded, and its output (or why not). */
export function runCommand(file: string, args: string[], timeoutMs = 120_000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => resolve({ ok: !err, out: err ? `${stdout}${stderr}`.trim() || String(err.message) : stdout.trim() }));
  });
}

/** null when a Docker engine answers (started with scripts/start-dockerd.sh when it does not), else why not. */
export async function whyNoDocker(): Promise<string | null> {
  if ((await runCommand("docker", ["version", "--format", "{{.Server.Version}}"], 10_000)).ok) return null;
  const started = await runCommand(path.join(ROOT, "scripts/start-dockerd.sh"), [], 180_000);
  if ((await runCommand("docker", ["version", "--format", "{{.Server.Version}}"], 10_000)).ok) return null;
  return `no Docker engine: scripts/start-dockerd.sh said: ${started.out.split("\n").slice(-3).join(" | ")}`;
}
