/**
 * Runtime stress: CPU and/or memory pressure that counts against the replica's own
 * limits, from a stress-ng process (a Debian package) joined to the replica's own
 * cgroups: the container's (Docker) or the one the process runtime made for the replica
 * (lib/runtime/memory-cgroup.ts). What it takes then shows in the replica's own figures
 * and, past the replica's memory limit, the kernel's OOM killer acts inside that cgroup.
 *
 * The stressor never runs as root: it runs as the replica user (lib/runtime/replica-user.ts).
 * It starts stopped (a shell stops itself, then execs stress-ng), is moved into the
 * cgroups and only then continued, so every worker it forks is born inside them. Its own
 * --timeout is the fault's time limit, so it ends at expiry even while the panel is down.
 * Where the replica has no cgroup of its own (a panel that is not root on a machine that
 * delegates none), the fault is refused with the reason: a stressor outside the replica's
 * cgroup would neither count against its limits nor show in its figures.
 */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { AppError } from "@/lib/core/errors";
import type { RuntimeStressParams } from "@/lib/core/mgmt";
import { env } from "@/lib/env";
import { isSameProcessRunning } from "@/lib/process/identity";
import { readProcStat } from "@/lib/process/procfs";
import { sleep } from "@/lib/process/sleep";
import { signalGroup, signalPid } from "@/lib/process/stop";
import { resolveRunAs } from "@/lib/runtime/replica-user";
import { runtimeFor } from "@/lib/runtime/registry";
import type { FaultKind, FaultRecord, FaultTarget } from "./types";

export type RuntimeStressState = {
  /** the stressor's process (it leads its own group), named by pid and start time */
  pid: number;
  startTicks: number;
  /** the cgroup folders it joined */
  cgroups: string[];
  /** the replica's runtime reference it stresses */
  ref: string;
  user: string;
};

const STRESS_NG_PATHS = ["/usr/bin/stress-ng", "/usr/local/bin/stress-ng"];

async function stressNg(): Promise<string> {
  for (const p of STRESS_NG_PATHS) if (await fs.access(p).then(() => true, () => false)) return p;
  throw new AppError("conflict", "runtime stress needs stress-ng, which is not installed here (apt-get install stress-ng)");
}

/** stress-ng's arguments: CPU workers at full load, one memory worker that holds its pages without spinning. */
export function stressArgs(p: Pick<RuntimeStressParams, "cpus" | "memoryMb">, seconds: number): string[] {
  // it runs in / as the replica user, who may not write there: its temp files go to /tmp
  const args = ["--timeout", `${seconds}s`, "--quiet", "--temp-path", "/tmp"];
  if (p.cpus) args.push("--cpu", String(p.cpus), "--cpu-load", "100");
  if (p.memoryMb) args.push("--vm", "1", "--vm-bytes", `${p.memoryMb}M`, "--vm-keep", "--vm-hang", "0");
  return args;
}

async function waitState(pid: number, wanted: (s: string) => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const st = await readProcStat(pid);
    if (!st) return false;
    if (wanted(st.state)) return true;
    await sleep(20);
  }
  return false;
}

async function start(target: FaultTarget, params: RuntimeStressParams, seconds: number): Promise<RuntimeStressState> {
  if (!target.runtimeRef) throw new AppError("conflict", `replica ${target.replicaId} is not running`);
  const rt = runtimeFor(target.runtime);
  const cg = rt.cgroupsOf ? await rt.cgroupsOf(target.runtimeRef) : { ok: false as const, reason: `the ${target.runtime} runtime has no cgroups` };
  if (!cg.ok) throw new AppError("conflict", `runtime stress needs the replica's own cgroup, and there is none here: ${cg.reason}`);
  const program = await stressNg();
  const runAs = await resolveRunAs(env().REPLICA_USER);
  // sh stops itself, so the panel can move it into the cgroups before stress-ng forks any worker
  const child = spawn("/bin/sh", ["-c", 'kill -STOP $$ && exec "$@"', "sh", program, ...stressArgs(params, seconds)], {
    cwd: "/",
    env: { PATH: "/usr/bin:/bin" } as unknown as NodeJS.ProcessEnv, // cast: Next.js types make NODE_ENV required
    detached: true,
    stdio: "ignore",
    ...(runAs.switched ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  child.on("error", () => undefined);
  child.unref();
  const pid = child.pid;
  if (!pid) throw new AppError("runtime_error", "could not start the stressor");
  try {
    if (!(await waitState(pid, (s) => s === "T", 3000))) throw new AppError("runtime_error", "the stressor did not start");
    const startTicks = (await readProcStat(pid))?.startTicks ?? -1;
    for (const dir of cg.dirs) await fs.writeFile(path.join(dir, "cgroup.procs"), String(pid));
    signalPid(pid, "SIGCONT");
    // stress-ng refuses bad arguments or a machine it cannot use at once: it must still run a moment later
    await sleep(150);
    if (!(await isSameProcessRunning({ pid, startTicks }))) throw new AppError("runtime_error", "stress-ng ended as soon as it started (run it by hand as the replica user to see why)");
    return { pid, startTicks, cgroups: cg.dirs, ref: target.runtimeRef, user: runAs.name };
  } catch (e) {
    signalGroup(pid, "SIGKILL");
    if (e instanceof AppError) throw e;
    throw new AppError("runtime_error", `could not put the stressor in the replica's cgroup: ${(e as Error).message}`);
  }
}

/**
 * Kill the stressor's group and wait (3 s at most) until its pid is gone, not merely dead: a
 * stressor this panel started is a zombie until Node collects its exit on a later turn of the
 * event loop, and Clear answers only once nothing of it is left.
 */
async function stop(state: RuntimeStressState): Promise<void> {
  const me = { pid: state.pid, startTicks: state.startTicks };
  if (!(await isSameProcessRunning(me))) return;
  signalGroup(state.pid, "SIGKILL");
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const st = await readProcStat(state.pid);
    if (!st || st.startTicks !== state.startTicks) return;
    await sleep(25);
  }
}

export const runtimeStressKind: FaultKind<RuntimeStressParams, RuntimeStressState> = {
  name: "runtime-stress",
  apply: (target, params) => start(target, params, params.seconds),
  undo: (_target, record) => stop(record.state),
  async resume(target: FaultTarget, record: FaultRecord<RuntimeStressParams, RuntimeStressState>) {
    const alive = await isSameProcessRunning({ pid: record.state.pid, startTicks: record.state.startTicks });
    if (alive && target.runtimeRef === record.state.ref) return record.state;
    await stop(record.state);
    const left = Math.ceil((record.expiresAt.getTime() - Date.now()) / 1000);
    if (left < 1 || !target.runtimeRef) return null;
    return start(target, record.params, left);
  },
};
