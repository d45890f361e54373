import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { isActiveRollout, specVersion, type RolloutAction, type RolloutRequest, type RolloutView, type RunSpec } from "@/lib/core/rollout";
import type { SessionUser } from "@/lib/auth/sessions";
import type { Role } from "@/lib/core/roles";
import { instanceSourceOf, runFieldsOf } from "@/lib/db/rows";
import { pauseAutoscaler, resumeAutoscaler } from "@/lib/autoscale/store";
import { controller } from "@/lib/controller/controller";
import { activeRollout, rolloutView, type RolloutRow } from "@/lib/rollout/store";
import { rolloutRunner } from "@/lib/rollout/runner";
import { actOnClusterRollout, CLUSTER_ROLLED } from "@/lib/rollout/cluster-rollout";
import { assertMayRun } from "@/lib/services/manage-services";
import { swarmRuntime } from "@/lib/runtime/registry";
import { SWARM_ROLLBACK_ASKED, swarmUpdateConfigs, type SwarmRolloutProgress } from "@/lib/core/swarm-rollout";

type Actor = Pick<SessionUser, "username" | "role">;

/** Who holds the autoscaler while a rollout runs (Autoscaler.pausedBy). */
export const ROLLOUT_PAUSER = "rollout";

async function serviceOrThrow(id: string) {
  const svc = await db().service.findUnique({ where: { id } });
  if (!svc) throw new AppError("not_found", "no such service");
  return svc;
}

/** A viewer sees the environment's names with empty values and no command words (as in the service's view). */
const forViewer = (spec: RunSpec): RunSpec => ({ image: spec.image, command: spec.command ? spec.command.map(() => "…") : null, env: Object.fromEntries(Object.keys(spec.env).map((k) => [k, ""])) });


/**
 * A swarm rollout's Swarm figures: its tasks by version live from the manager; Swarm's
 * UpdateStatus live while the rollout is active, and once it ended the state that ended it (not
 * live then: after its rollback Swarm was seen to report "update completed" for the previous
 * spec). The manager unreachable: the counts the row kept, failed tasks unknown.
 */
async function swarmFiguresOf(row: RolloutRow): Promise<NonNullable<RolloutView["swarm"]>> {
  const active = isActiveRollout(row.state);
  const ended: string | null = ({ promoted: "completed", rolled_back: "rollback_completed" } as Record<string, string>)[row.state] ?? null;
  try {
    const p: SwarmRolloutProgress = await swarmRuntime().rolloutProgress(row.serviceId, row.toVersion);
    return { updateState: active ? p.updateState : ended, message: active ? p.message : null, desired: p.desired, newTasks: p.newTasks, oldTasks: p.oldTasks, failedTasks: p.failedTasks };
  } catch {
    return { updateState: active ? null : ended, message: null, desired: row.replicas, newTasks: row.newDesired, oldTasks: row.oldDesired, failedTasks: null };
  }
}

async function viewOf(row: RolloutRow, role: Role = "admin", runtime?: string): Promise<RolloutView> {
  const rows = await db().replica.findMany({ where: { serviceId: row.serviceId, inEngine: true, state: "ready" }, select: { version: true } });
  const newInEngine = rows.filter((r) => r.version === row.toVersion).length;
  const kind = runtime ?? (await db().service.findUnique({ where: { id: row.serviceId }, select: { runtime: true } }))?.runtime;
  // a Deployment's pods are not in the panel's engine: its rollout's own counts
  const counts = kind === "kubernetes" ? undefined : { newInEngine, oldInEngine: rows.length - newInEngine };
  const view = rolloutView(row, counts, kind === "swarm" ? await swarmFiguresOf(row) : null);
  return role === "viewer" ? { ...view, from: forViewer(view.from), to: forViewer(view.to) } : view;
}

/** A service's rollouts, newest first (the active one, if any, first of all). */
export async function listRollouts(serviceId: string, role: Role, take = 10): Promise<RolloutView[]> {
  const svc = await serviceOrThrow(serviceId);
  const rows = await db().rollout.findMany({ where: { serviceId }, orderBy: { createdAt: "desc" }, take });
  return Promise.all(rows.map((r) => viewOf(r, role, svc.runtime)));
}

export async function getRollout(serviceId: string, rolloutId: string, role: Role): Promise<RolloutView> {
  const row = await db().rollout.findFirst({ where: { id: rolloutId, serviceId } });
  if (!row) throw new AppError("not_found", "no such rollout");
  return viewOf(row, role);
}

/**
 * Start a rollout of a new image, command or environment. One at a time per service; not
 * for instances the panel did not start. The autoscaler, when on, is held until it ends.
 */
export async function startRollout(serviceId: string, input: RolloutRequest, actor: Actor): Promise<RolloutView> {
  const svc = await serviceOrThrow(serviceId);
  if (instanceSourceOf(svc)) throw new AppError("conflict", `${svc.name}'s instances are not started by the panel: there is nothing to roll out`);
  if (await activeRollout(serviceId)) throw new AppError("conflict", `${svc.name} has a rollout in progress: promote or abort it first`);
  if (CLUSTER_ROLLED.has(svc.runtime)) throw new AppError("conflict", `${svc.name} runs on ${svc.runtime}: change its image, command or environment on the service (its Deployment rolls the pods); the panel's canary and batch rollouts need the panel's own balancer`);
  const current = runFieldsOf(svc);
  const from: RunSpec = { image: svc.image, command: current.command, env: current.env };
  const to: RunSpec = {
    image: input.image !== undefined ? input.image : from.image,
    command: input.command !== undefined ? input.command : from.command,
    env: input.env ?? from.env,
  };
  // the same run policy as an edit of the service (an operator may not roll out what they may not run)
  await assertMayRun(actor, { image: to.image, command: to.command, env: to.env }, { ...from, allowRoot: svc.allowRoot });
  if (svc.runtime === "docker" && !to.image) throw new AppError("bad_request", "image: a Docker service needs one");
  const swarm = svc.runtime === "swarm";
  if (swarm && !to.image) throw new AppError("bad_request", "image: a Swarm service needs one");
  if (swarm && input.strategy === "canary") {
    throw new AppError("bad_request", "strategy: a Swarm service's rollout is Swarm's rolling update (batchSize tasks at a time, holdS seconds between batches): use rolling", [{ path: "strategy", message: "rolling only on Swarm" }]);
  }
  const fromVersion = specVersion(from);
  const toVersion = specVersion(to);
  if (fromVersion === toVersion) throw new AppError("bad_request", "nothing changes: give a new image, command or environment");
  const replicas = Math.max(1, svc.replicas);
  // replicas started before versions were recorded run the current spec
  await db().replica.updateMany({ where: { serviceId, version: null }, data: { version: fromVersion } });
  const autoscalerPaused = await pauseAutoscaler(serviceId, ROLLOUT_PAUSER);
  const plan = { strategy: input.strategy, weights: input.weights, batchSize: input.batchSize, holdS: input.holdS, gates: input.gates };
  if (swarm) {
    // Swarm's update first, the record after: the runner never reads the UpdateStatus of an
    // earlier update (Swarm clears it with this write) as this rollout's
    try {
      await swarmRuntime().updateTasks(serviceId, { image: to.image ?? undefined, command: to.command, env: to.env, version: toVersion, configs: swarmUpdateConfigs(plan) });
    } catch (e) {
      if (autoscalerPaused) await resumeAutoscaler(serviceId);
      throw e;
    }
  }
  const row = await db().rollout.create({
    data: {
      serviceId,
      strategy: input.strategy,
      state: "running",
      fromVersion,
      toVersion,
      fromSpec: JSON.stringify(from),
      toSpec: JSON.stringify(to),
      plan: JSON.stringify(plan),
      replicas,
      oldDesired: replicas,
      newDesired: 0,
      autoscalerPaused,
      createdBy: actor.username,
    },
  });
  const what = [to.image !== from.image ? `image ${to.image ?? "(default)"}` : null, JSON.stringify(to.command) !== JSON.stringify(from.command) ? "command" : null, JSON.stringify(to.env) !== JSON.stringify(from.env) ? "environment" : null].filter(Boolean).join(", ");
  const how = swarm
    ? `Swarm's rolling update, ${input.batchSize} task(s) at a time, ${input.holdS} s between batches, start-first, each watched 5 s, a failure rolled back by Swarm`
    : input.strategy === "canary" ? `canary ${input.weights.join(" → ")} → 100 %, ${input.holdS} s per step` : `rolling, ${input.batchSize} at a time, ${input.holdS} s between batches`;
  await recordEvent({
    kind: EVENT_KIND.rolloutStarted,
    actor: actor.username,
    serviceId,
    message: `${actor.username} started a rollout of ${svc.name} (${what}: ${fromVersion} → ${toVersion}), ${how}${autoscalerPaused ? "; the autoscaler holds until it ends" : ""}`,
    data: { rolloutId: row.id, fromVersion, toVersion, plan },
  });
  void rolloutRunner().tick();
  return viewOf(row);
}

/** Promote, pause, resume or abort by hand (operators and admins; audited). */
export async function actOnRollout(serviceId: string, rolloutId: string, action: RolloutAction, actor: Actor): Promise<RolloutView> {
  const row = await db().rollout.findFirst({ where: { id: rolloutId, serviceId } });
  if (!row) throw new AppError("not_found", "no such rollout");
  const svc = await serviceOrThrow(serviceId);
  if (svc.runtime === "swarm") return actOnSwarmRollout(row, action, actor);
  if (CLUSTER_ROLLED.has(svc.runtime)) {
    if (!isActiveRollout(row.state)) throw new AppError("conflict", `the rollout has ended (${row.state})`);
    await actOnClusterRollout(svc, row, action, actor.username);
    controller().kick(serviceId);
    return getRollout(serviceId, row.id, actor.role);
  }
  if (action === "rollback") throw new AppError("conflict", "rollback: Swarm's rollback, for a swarm service's rollout; abort this one");
  if (!isActiveRollout(row.state)) throw new AppError("conflict", `the rollout has ended (${row.state})`);
  const allowed: Record<Exclude<RolloutAction, "rollback">, string[]> = { promote: ["running", "paused"], pause: ["running"], resume: ["paused"], abort: ["running", "paused", "promoting"] };
  if (!allowed[action].includes(row.state)) throw new AppError("conflict", `cannot ${action} a rollout that is ${row.state.replace("_", " ")}`);
  const data =
    action === "promote"
      ? { state: "promoting" }
      : action === "pause"
        ? { state: "paused", reason: `paused by ${actor.username}` }
        : action === "resume"
          ? { state: "running", stepStartedAt: null, reason: null } // the step is measured again from its split
          : { state: "rolling_back", reason: `aborted by ${actor.username}` };
  const res = await db().rollout.updateMany({ where: { id: row.id, state: row.state }, data });
  if (res.count === 0) throw new AppError("conflict", "the rollout changed meanwhile: try again");
  // promote and abort end later (rollout.promoted / rollout.aborted, when the replicas are through)
  const kind = { promote: EVENT_KIND.rolloutStep, pause: EVENT_KIND.rolloutPaused, resume: EVENT_KIND.rolloutResumed, abort: EVENT_KIND.rolloutRollingBack }[action];
  const words = { promote: "promoted by hand (the new version to every replica, the old drained)", pause: "paused: the split stays as it is", resume: "resumed: the step is measured again", abort: "aborted: the old version back to full weight, the new replicas drained" }[action];
  await recordEvent({ kind, actor: actor.username, serviceId, message: `${actor.username}: rollout ${words}`, data: { rolloutId: row.id, action } });
  controller().kick(serviceId);
  void rolloutRunner().tick();
  return getRollout(serviceId, row.id, actor.role);
}

/**
 * Rollback (or Abort) of a swarm service's rollout: Swarm's own rollback to the service's
 * previous spec, while Swarm updates, after it paused, or once it completed (the service's
 * newest rollout only). Promote, pause and resume are Swarm's to do, not the panel's.
 */
async function actOnSwarmRollout(row: RolloutRow, action: RolloutAction, actor: Actor): Promise<RolloutView> {
  if (action !== "rollback" && action !== "abort") throw new AppError("conflict", `Swarm runs this rollout: the panel can roll it back (rollback) but not ${action} it`);
  const newest = await db().rollout.findFirst({ where: { serviceId: row.serviceId }, orderBy: { createdAt: "desc" }, select: { id: true } });
  const may = ["running", "paused", ...(action === "rollback" && newest?.id === row.id ? ["promoted"] : [])];
  if (!may.includes(row.state)) throw new AppError("conflict", row.state === "rolling_back" ? "Swarm is rolling it back already" : `cannot ${action} a rollout that is ${row.state.replace("_", " ")}${row.state === "promoted" ? " (only the newest can be rolled back)" : ""}`);
  const reason = `${action === "abort" ? "aborted" : "rolled back"} by ${actor.username}: ${SWARM_ROLLBACK_ASKED}`;
  // Swarm's rollback first (it sets rollback_started with the same write), the record after: the
  // runner never takes a status from before the rollback (a paused one) for this one's
  await swarmRuntime().rollback(row.serviceId);
  // the runner may have seen Swarm's rollback_started in between: the person's reason wins
  await db().rollout.updateMany({ where: { id: row.id, state: { in: [row.state, "rolling_back"] } }, data: { state: "rolling_back", reason, endedAt: null } });
  await recordEvent({
    kind: EVENT_KIND.rolloutRollingBack,
    actor: actor.username,
    serviceId: row.serviceId,
    message: `${actor.username}: rollout ${action === "abort" ? "aborted" : "rolled back"}: Swarm rolls the service back to its previous spec (${row.fromVersion})`,
    data: { rolloutId: row.id, action },
  });
  void rolloutRunner().tick();
  return getRollout(row.serviceId, row.id, actor.role);
}
