import fs from "node:fs";
import path from "node:path";
import { parseEnv } from "../lib/env";
import { readPidFileSync } from "../lib/process/pid-file";
import { readCmdlineSync } from "../lib/process/procfs";

/**
 * `npm run stop`: stops everything this data folder runs. The panel leaves the balancer
 * and the replicas running when it stops (so a restart loses no traffic); this is the
 * way to stop them all:
 *   1. the panel itself, when it runs (DATA_DIR/panel.pid), so nothing restarts what follows;
 *   2. every replica of this data folder: process replicas (their state files) and this
 *      panel's Docker containers (labelled with DATA_DIR/panel-id), when an engine answers;
 *   3. the balancer, when the panel supervises it (pid files in DATA_DIR; an external
 *      engine is left alone).
 * Reads the same environment as `npm start` (DATA_DIR above all).
 */
async function main(): Promise<void> {
  let cfg;
  try {
    cfg = parseEnv(process.env);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
  const say = (s: string) => console.log(`[switchyard stop] ${s}`);
  if (!fs.existsSync(cfg.dataDir)) {
    say(`nothing to stop: ${cfg.dataDir} does not exist`);
    return;
  }
  say(`stopping what ${cfg.dataDir} runs`);

  const { stopWithEscalation } = await import("../lib/process/stop");
  const { isAlive } = await import("../lib/process/identity");
  const panelPid = readPidFileSync(path.join(cfg.dataDir, "panel.pid"));
  if (panelPid !== null && isAlive(panelPid) && isPanel(panelPid)) {
    say(`panel (pid ${panelPid}): SIGTERM`);
    if (!(await stopWithEscalation(panelPid, [["SIGTERM", 15_000], ["SIGKILL", 3000]]))) throw new Error(`the panel (pid ${panelPid}) did not stop`);
  }

  const { runtimeFor } = await import("../lib/runtime/registry");
  for (const kind of ["process", "docker"] as const) {
    const runtime = runtimeFor(kind);
    const available = await runtime.available();
    if (!available.ok) {
      if (kind === "docker") say(`docker: not checked (${available.reason})`);
      continue;
    }
    const replicas = await runtime.list();
    await Promise.all(
      replicas.map(async (r) => {
        await runtime.stop(r.runtimeRef, 5000);
        await runtime.remove(r.runtimeRef);
      }),
    );
    say(`${kind} replicas stopped: ${replicas.length}`);
  }

  const { engineOfKind } = await import("../lib/engines/registry");
  for (const kind of ["haproxy", "nginx", "builtin"] as const) {
    const engine = engineOfKind(kind);
    const before = await engine.status();
    if (before.mode !== "supervised") continue;
    await engine.stop();
    if (before.running) say(`${kind} stopped`);
  }
  say("done");
}

/** Is `pid` a Switchyard panel (npm start or the dev server), not a stranger that reused the pid? */
function isPanel(pid: number): boolean {
  const argv = readCmdlineSync(pid)?.split("\0") ?? [];
  return argv.some((a) => a.endsWith("scripts/start.ts") || a.endsWith("server.ts"));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[switchyard stop] ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
