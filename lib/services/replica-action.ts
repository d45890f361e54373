import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { hasRole } from "@/lib/core/roles";
import { isMgmtAction, type ReplicaAction } from "@/lib/core/mgmt";
import type { SessionUser } from "@/lib/auth/sessions";
import { runMgmtAction } from "@/lib/mgmt/client";
import { controller } from "@/lib/controller/controller";
import { runtimeOfService } from "@/lib/runtime/registry";
import { balancerServiceOf } from "@/lib/db/balancer-config";
import { instanceSourceOf, runtimeKindOf } from "@/lib/db/rows";
import { serverNameFor } from "@/lib/engines/types";
import { engine } from "@/lib/engines/registry";
import { runCustomAction, swarmTaskOf } from "@/lib/services/run-custom-action";

/** What a Swarm task's card can do: the management plane through the balancer's relay, and the app's own actions. */
const SWARM_ACTIONS = new Set(["clear", "stress-memory", "stress-cpu", "faults", "info", "custom"]);
import { availableParallelism } from "node:os";
import { faultStore, describeFault, type EndedFault } from "@/lib/faults/store";

/** A pause lasts at most this long unless resumed or cleared sooner (every fault has a time limit). */
export const PAUSE_SECONDS = 300;

function describe(a: ReplicaAction): string {
  switch (a.action) {
    case "stress-memory":
      return `stress memory ${a.mb} MB`;
    case "stress-cpu":
      return `stress CPU ${a.seconds} s`;
    case "faults":
      return `faults ${JSON.stringify({ latencyMs: a.latencyMs, errorRate: a.errorRate, failHealth: a.failHealth })}`;
    case "weight":
      return `weight ${a.weight}`;
    case "custom":
      return `action "${a.name}"`;
    case "kill":
      return `kill with ${a.signal}`;
    default:
      return a.action;
  }
}

/**
 * POST /api/replicas/:id/actions. Management-plane actions go straight to the
 * replica's own admin address with the service's token — never through the
 * balancer — so they reach a replica the balancer has isolated.
 */
export async function runReplicaAction(replicaId: string, action: ReplicaAction, user: SessionUser) {
  const replica = await db().replica.findUnique({ where: { id: replicaId }, include: { service: true } });
  if (!replica) throw new AppError("not_found", "no such replica");
  const svc = replica.service;
  const readOnly = action.action === "info";
  if (!readOnly && !hasRole(user.role, "operator")) throw new AppError("forbidden", "this needs the operator role");
  const ctl = controller();
  const source = instanceSourceOf(svc);
  // instances the panel did not start (issue 14, item 3): an external endpoint has no lifecycle at all,
  // a discovered container can be restarted and stopped but is never removed
  if (source?.kind === "external" && (action.action === "restart" || action.action === "stop" || action.action === "remove")) {
    throw new AppError("conflict", `${replicaId} is an external endpoint (${replica.dataAddr}): the panel did not start it and cannot ${action.action} it; edit ${svc.name}'s endpoints to take it out`);
  }
  if (source?.kind === "discover" && action.action === "remove") {
    throw new AppError("conflict", `${replicaId} is a container ${svc.name} discovered: the panel never removes a container it did not create (stop it, or change its labels)`);
  }
  if (replica.runtime === "swarm" && (action.action === "weight" || action.action === "drain" || action.action === "maint" || action.action === "ready")) {
    throw new AppError("conflict", `${replicaId} is a Swarm task: its service's own HAProxy on the Swarm balances across the tasks as Docker's DNS lists them (tasks.<service>), not by task, so ${action.action === "weight" ? "a weight" : `the admin state ${action.action}`} cannot be set per task; drain its node or scale the service`);
  }
  if (replica.runtime === "swarm" && !SWARM_ACTIONS.has(action.action)) {
    throw new AppError("conflict", `${replicaId} is a Swarm task: Swarm schedules it, so ${action.action} is not the panel's to do; scale the service, drain its node, or use stress, faults, clear and the app's own actions (they reach the task through the balancer's management listener)`);
  }
  if (replica.runtime === "kubernetes" && (action.action === "restart" || action.action === "stop" || action.action === "remove")) {
    throw new AppError("conflict", `${replicaId} is a Kubernetes pod: its Deployment owns it, so ${action.action} is not the panel's to do; scale the service, or use stress, faults, clear and the app's own actions (they reach the pod's admin port)`);
  }
  const mgmt = { adminAddr: replica.adminAddr ?? "", token: svc.adminToken, task: swarmTaskOf(replica) };
  let result: unknown = { ok: true };
  let outcome = "";
  let eventData: Record<string, unknown> = { action: action.action };

  if (action.action === "clear") {
    // every recorded fault of the replica, and the app's own clear where it speaks the replica protocol
    const ended = await faultStore().clear(replicaId, user.username);
    const faultsNote = ended.length > 0 ? `undid ${ended.map((f) => f.kind).join(", ")}` : "no active faults";
    let protocol: unknown = null;
    if (svc.replicaProtocol) {
      if (!replica.adminAddr) throw new AppError("conflict", `replica ${replicaId} has no admin address yet (still starting)`);
      protocol = await runMgmtAction(mgmt, action);
    }
    result = { ...(protocol && typeof protocol === "object" ? protocol : {}), ok: true, faultsCleared: ended, message: faultsNote };
    outcome = ` (${faultsNote}${svc.replicaProtocol ? "; the app's own clear sent" : ""})`;
    eventData = { action: "clear", faultsCleared: ended.map((f: EndedFault) => f.id) };
  } else if (action.action === "pause" || action.action === "runtime-stress" || action.action === "network-fault") {
    const { action: kind, ...asked } = action;
    const params = kind === "pause" ? {} : asked;
    if (action.action === "runtime-stress" && (action.cpus ?? 0) > availableParallelism()) {
      throw new AppError("bad_request", `cpus is at most this machine's ${availableParallelism()} cores`);
    }
    const seconds = action.seconds ?? PAUSE_SECONDS;
    const fault = await faultStore().apply(replicaId, kind, params, seconds, user.username);
    const left = Math.round((Date.parse(fault.expiresAt) - Date.now()) / 1000);
    result = { ok: true, fault, message: `${describeFault(kind, params)} for ${left} s${fault.replaced.length ? " (replaced the one before)" : ""}; Clear undoes it` };
    return { replicaId, action: action.action, result }; // the store recorded fault.started (the audit)
  } else if (action.action === "resume") {
    const ended = await faultStore().clear(replicaId, user.username, { kind: "pause", reason: `resumed by ${user.username}` });
    // a replica frozen without a record (by hand) is unfrozen too
    const rt = runtimeOfService({ id: svc.id, name: svc.name, runtime: runtimeKindOf(svc), source });
    if (replica.runtimeRef && rt.unpause) await rt.unpause(replica.runtimeRef);
    result = { ok: true, faultsCleared: ended, message: ended.length ? "resumed: the pause is undone" : "resumed (no pause was recorded)" };
  } else if (action.action === "kill") {
    const rt = runtimeOfService({ id: svc.id, name: svc.name, runtime: runtimeKindOf(svc), source });
    if (!replica.runtimeRef) throw new AppError("conflict", "the replica is not running");
    if (!rt.signal) throw new AppError("conflict", `the ${rt.kind} runtime cannot send signals`);
    await rt.signal(replica.runtimeRef, action.signal);
    ctl.kick(svc.id);
    result = { ok: true, message: `sent ${action.signal}; if it ends, the controller replaces it` };
    eventData = { action: "kill", signal: action.signal };
  } else if (isMgmtAction(action)) {
    if (!replica.adminAddr) throw new AppError("conflict", `replica ${replicaId} has no admin address yet (still starting)`);
    result = await runMgmtAction(mgmt, action);
  } else if (action.action === "drain" || action.action === "maint" || action.action === "ready") {
    const state = action.action;
    await ctl.engineLock.run(async () => {
      await db().replica.update({ where: { id: replicaId }, data: { adminState: state } });
      const service = await balancerServiceOf(svc.id);
      if (replica.inEngine && service) await engine().setServerState(service, serverNameFor(replicaId), state);
    });
  } else if (action.action === "weight") {
    const weight = action.weight;
    await ctl.engineLock.run(async () => {
      await db().replica.update({ where: { id: replicaId }, data: { weight } });
      const service = await balancerServiceOf(svc.id);
      if (replica.inEngine && service) await engine().setWeight(service, serverNameFor(replicaId), weight);
    });
  } else if (action.action === "restart") {
    void ctl.restartReplica(svc.id, replicaId).catch(() => undefined);
    result = { ok: true, message: "restarting: out of rotation, restarted, back when healthy" };
  } else if (action.action === "stop") {
    // stop the process; the controller sees it gone and starts a replacement
    if (!replica.runtimeRef) throw new AppError("conflict", "the replica is not running");
    await runtimeOfService({ id: svc.id, name: svc.name, runtime: runtimeKindOf(svc), source }).stop(replica.runtimeRef, 10_000);
    ctl.kick(svc.id);
    result = { ok: true, message: source ? "stopped; it leaves the pool (nothing replaces a container the panel did not start)" : "stopped; the controller replaces it" };
  } else if (action.action === "custom") {
    const { action: declared, answer } = await runCustomAction(replica, svc, action.name);
    result = { ok: answer.status >= 200 && answer.status < 400, name: declared.name, method: declared.method, path: declared.path, port: declared.port, ...answer };
    outcome = ` (${declared.method} ${declared.path} on its ${declared.port} port: HTTP ${answer.status})`;
    eventData = { action: "custom", name: declared.name, method: declared.method, path: declared.path, port: declared.port, status: answer.status };
  } else if (action.action === "remove") {
    if (svc.replicas <= svc.minReplicas) throw new AppError("conflict", `${svc.name} is at its minimum of ${svc.minReplicas} replicas`);
    await ctl.removeReplica(svc.id, replicaId, svc.replicas - 1);
    result = { ok: true, message: `removing; ${svc.name} now wants ${svc.replicas - 1} replicas` };
  }
  if (!readOnly) {
    await recordEvent({ kind: `replica.action`, actor: user.username, serviceId: svc.id, replicaId, message: `${user.username}: ${describe(action)} on replica ${replicaId}${outcome}`, data: eventData });
  }
  return { replicaId, action: action.action, result };
}

export async function listReplicas(serviceId: string) {
  const rows = await db().replica.findMany({ where: { serviceId }, orderBy: { createdAt: "asc" } });
  return rows;
}
