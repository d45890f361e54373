/**
 * replica/server.js with EXIT_WITH_PARENT=1 (what tests/helpers/replica-process.ts and the fake
 * Kubernetes API's pods set): when the process that started it is killed, the replica exits
 * instead of holding its ports; without the flag it outlives its parent, as a runtime's replicas
 * must. Each case starts a small parent process that starts the replica and is then SIGKILLed.
 * Replica ports 18800-18803.
 */
import fs from "node:fs";
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { REPLICA_SERVER_JS } from "../helpers/replica-process";
import { waitFor } from "../helpers/load";

/** A process that is there and not a zombie awaiting collection. */
function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) if (running(pid)) process.kill(pid, "SIGKILL");
});

/** A parent process starts the replica (no pipes it holds: the replica must not die of a closed stdout), prints its pid, then waits. */
async function replicaUnderParent(port: number, env: Record<string, string>): Promise<{ parent: number; replica: number }> {
  const script = `
    const { spawn } = require("node:child_process");
    const child = spawn(process.execPath, [${JSON.stringify(REPLICA_SERVER_JS)}], { env: ${JSON.stringify({ PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(port), ADMIN_PORT: String(port + 1), ADMIN_TOKEN: "t", REPLICA_ID: `ewp${port}`, ...env })}, stdio: "ignore" });
    console.log(child.pid);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  strays.push(parent.pid!);
  let out = "";
  parent.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const replica = Number(await waitFor("the parent to print the replica's pid", () => /^\d+\n/.exec(out)?.[0], 15_000));
  strays.push(replica);
  await waitFor(`the replica to answer on ${port}`, () => answers(port), 15_000, 100);
  return { parent: parent.pid!, replica };
}

describe("replica app: EXIT_WITH_PARENT", () => {
  it("exits when its parent is killed, and frees its port", async () => {
    const { parent, replica } = await replicaUnderParent(18800, { EXIT_WITH_PARENT: "1" });
    const t0 = Date.now();
    process.kill(parent, "SIGKILL");
    await waitFor("the replica to exit after its parent", () => !running(replica), 10_000, 50);
    console.log(`[exit-with-parent] replica ${replica} gone ${Date.now() - t0} ms after its parent ${parent} was killed`);
    expect(await answers(18800)).toBe(false);
  });

  it("without the flag it outlives its parent (a runtime's replicas must)", async () => {
    const { parent, replica } = await replicaUnderParent(18802, {});
    process.kill(parent, "SIGKILL");
    await waitFor("the parent to be gone", () => !running(parent), 10_000, 50);
    // the watchdog checks every 500 ms: three checks' time, and the replica still serves
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect(running(replica)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await answers(18802)).toBe(true);
  });
});
