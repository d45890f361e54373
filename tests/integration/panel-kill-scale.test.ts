/**
 * kill -9 of the panel during a scale-up leaves no orphans (issue 10, High 3). The
 * controller runs in a process of its own (tests/helpers/controller-process.ts: what the
 * panel runs for it, with the scale use case the API route calls), on a real database,
 * a real HAProxy and real replica processes. For each kill point, the test asks it to
 * scale 1 → 8, SIGKILLs it that many ms after writing the request, starts a new one on the
 * same data folder and database, and waits until it converged. Then it counts the
 * replica processes of the service on the whole machine by their environment (the
 * service's ADMIN_TOKEN, which every replica gets), independent of state files and
 * database: processes = desired, each one a replica the database knows (no orphans), one
 * process per replica (no duplicates). It prints what the kill left behind (rows, state
 * files without a pid, processes) and what the restart made of it.
 *
 * Listener 127.0.0.1:18325, replicas on 25600-25799 (docs/TESTING.md).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "../helpers/temp-db";
import { startControllerProcess, type ControllerProcess } from "../helpers/controller-process";
import { killProcessesUnder } from "../helpers/panel";
import { hasBinary, needs } from "../helpers/requirements";
import { until } from "../helpers/load";

const LISTEN = 18325;
const KILL_AFTER_MS = [0, 50, 100, 200, 400, 800];
const SCALE_TO = 8;

type Snapshot = {
  desired: number;
  rows: { id: string; state: string; inEngine: boolean; runtimeRef: string | null }[];
  /** every live process carrying the service's admin token, by its REPLICA_ID */
  processes: { pid: number; replicaId: string }[];
  /** state files under DATA_DIR/replicas: with a pid, or only the intent (pid 0) */
  stateFiles: { replicaId: string; pid: number; ended: boolean }[];
};

/** Live (not zombie) processes whose environment holds ADMIN_TOKEN=<token>. Read independently of lib/runtime. */
function processesWithToken(token: string): { pid: number; replicaId: string }[] {
  const out: { pid: number; replicaId: string }[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const vars = fs.readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
      if (!vars.includes(`ADMIN_TOKEN=${token}`)) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      if (/^\d+ \(.*\) [ZX] /.test(stat)) continue;
      out.push({ pid: Number(name), replicaId: vars.find((v) => v.startsWith("REPLICA_ID="))?.slice("REPLICA_ID=".length) ?? "?" });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("kill -9 of the panel during a scale-up", () => {
  let tmp: TempDatabase;
  let ctl: ControllerProcess | null = null;
  let childEnv: Record<string, string>;
  let serviceId = "";
  let token = "";
  let db: typeof import("@/lib/db/client").db;

  const snapshot = async (): Promise<Snapshot> => {
    const svc = await db().service.findUniqueOrThrow({ where: { id: serviceId } });
    const rows = await db().replica.findMany({ where: { serviceId }, select: { id: true, state: true, inEngine: true, runtimeRef: true } });
    const dir = path.join(tmp.dataDir, "replicas");
    const stateFiles = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).flatMap((id) => {
      try {
        const s = JSON.parse(fs.readFileSync(path.join(dir, id, "state.json"), "utf8")) as { pid: number; stoppedAt: string | null };
        return [{ replicaId: id, pid: s.pid, ended: s.stoppedAt !== null }];
      } catch {
        return [];
      }
    });
    return { desired: svc.replicas, rows, processes: processesWithToken(token), stateFiles };
  };

  /** Converged: the desired count of replicas, all ready and in the engine, one live process each and no other. */
  const converged = (s: Snapshot): boolean => {
    const ids = new Set(s.rows.map((r) => r.id));
    const procIds = s.processes.map((p) => p.replicaId);
    return (
      s.rows.length === s.desired &&
      s.rows.every((r) => r.state === "ready" && r.inEngine) &&
      s.processes.length === s.desired &&
      new Set(procIds).size === procIds.length &&
      procIds.every((id) => ids.has(id))
    );
  };

  const describeKill = (s: Snapshot): string => {
    const recorded = new Set(s.stateFiles.filter((f) => f.pid > 0).map((f) => f.replicaId));
    const byState = Object.entries(s.rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [`${r.state}${r.runtimeRef ? "" : " without a ref"}`]: (acc[`${r.state}${r.runtimeRef ? "" : " without a ref"}`] ?? 0) + 1 }), {}))
      .map(([k, n]) => `${n} ${k}`)
      .join(", ");
    return (
      `desired ${s.desired}; ${s.rows.length} rows (${byState}); ${s.processes.length} replica processes, ` +
      `${s.processes.filter((p) => !recorded.has(p.replicaId)).length} of them with no pid in a state file; ` +
      `${s.stateFiles.filter((f) => f.pid === 0 && !f.ended).length} intents (state files without a pid)`
    );
  };

  beforeAll(async () => {
    tmp = await openTempDatabase("kill-scale");
    db = (await import("@/lib/db/client")).db;
    childEnv = { DATA_DIR: tmp.dataDir, DATABASE_URL: tmp.databaseUrl, ENGINE: "haproxy", BALANCER_PORT: String(LISTEN), PORT_RANGE: "25600-25799", HOST: "127.0.0.1" };
    ctl = await startControllerProcess(childEnv);
    const created = await ctl.send({ cmd: "create", input: { name: "web", dataPort: 8000, adminPort: 9000, env: {}, memoryLimitMb: 128, cpuLimit: null, replicas: 1, minReplicas: 0 } });
    if (!created.ok || !created.id) throw new Error(`create failed: ${created.error}\n${ctl.output()}`);
    serviceId = created.id;
    token = (await db().service.findUniqueOrThrow({ where: { id: serviceId } })).adminToken;
    await until("one replica in rotation", snapshot, converged, 60_000, 200);
  }, 180_000);

  afterAll(async () => {
    await ctl?.kill();
    if (tmp) {
      await killProcessesUnder(tmp.dataDir, 3000);
      await tmp.close();
    }
  }, 60_000);

  for (const delay of KILL_AFTER_MS) {
    it(`kill -9 ${delay} ms after the request to scale 1 → ${SCALE_TO}: after a restart, processes = desired, no orphans, no duplicates`, async () => {
      ctl!.write({ cmd: "scale", id: serviceId, replicas: SCALE_TO });
      await new Promise((r) => setTimeout(r, delay)); // the kill point (not a wait before an assertion)
      await ctl!.kill();
      ctl = null;
      const atKill = await snapshot();

      const restartAt = Date.now();
      ctl = await startControllerProcess(childEnv);
      let after: Snapshot;
      try {
        after = await until("the restarted controller to converge", snapshot, converged, 90_000, 200);
      } catch (e) {
        throw new Error(`${(e as Error).message}\nat the kill: ${describeKill(atKill)}\nnow: ${describeKill(await snapshot())}\ncontroller output:\n${ctl.output().slice(-3000)}`);
      }
      console.log(
        `[kill-scale] kill at ${delay} ms: ${describeKill(atKill)}. After the restart: ${after.processes.length} processes for ${after.desired} desired, ` +
          `0 orphans, 0 duplicates, converged ${Date.now() - restartAt} ms after the new controller started`,
      );
      expect(after.processes).toHaveLength(after.desired);
      expect(new Set(after.processes.map((p) => p.replicaId)).size).toBe(after.desired);
      expect(after.processes.map((p) => p.replicaId).sort()).toEqual(after.rows.map((r) => r.id).sort());
      // every state file left is a replica that runs (no intent or dead record stays behind)
      expect(after.stateFiles.map((f) => f.replicaId).sort()).toEqual(after.rows.map((r) => r.id).sort());

      // back to one for the next kill point
      const back = await ctl.send({ cmd: "scale", id: serviceId, replicas: 1 });
      expect(back.ok).toBe(true);
      await until("back to one replica", snapshot, converged, 60_000, 200);
    }, 240_000);
  }
});
