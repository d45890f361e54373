import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { gatePolicySchema, specVersion, type RolloutAction, type RunSpec } from "@/lib/core/rollout";
import type { ClusterServiceStatus } from "@/lib/runtime/cluster";
import { clusterFor } from "@/lib/runtime/registry";
import { activeRollout, specOf, type RolloutRow } from "@/lib/rollout/store";

/**
 * A rolling update that the CLUSTER drives (runtime "kubernetes": the Deployment controller),
 * recorded as a Rollout row so the panel's rollout card and API show it like the panel's own:
 *
 * - an image/command/env change of the service starts it (the service's fields are the new
 *   ones at once: the Deployment's template is, and the controller's next pass patches it);
 * - the controller's service-level path (lib/controller/cluster-sync.ts) hands every status
 *   read to followClusterRollout: the Deployment's own progress (updated / available pods)
 *   is the row's reason; done -> promoted; ProgressDeadlineExceeded -> paused with
 *   "stalled: ..." (Kubernetes does not roll back by itself: a person does, with Roll back);
 * - Roll back (the rollout's abort action) is kubectl's undo: the previous ReplicaSet's
 *   template written back into the Deployment, then the service's fields back to the old
 *   spec; the row ends rolled_back once the Deployment is done with that template, never
 *   promoted. The panel's own runner (lib/rollout/runner.ts) leaves these rows alone.
 */

type Service = { id: string; name: string; runtime: string };

/** The runtimes whose rolling updates the cluster drives (the panel's runner skips their rollouts). */
export const CLUSTER_ROLLED = new Set(["kubernetes"]);

const PLAN = () => JSON.stringify({ strategy: "rolling", weights: [], batchSize: 1, holdS: 0, gates: gatePolicySchema.parse({}) });

/** The row for a rolling update the cluster just began (its template was changed to `to`). */
export async function startClusterRollout(svc: Service & { replicas: number }, from: RunSpec, to: RunSpec, actor: string): Promise<void> {
  const fromVersion = specVersion(from);
  const toVersion = specVersion(to);
  if (fromVersion === toVersion) return;
  const row = await db().rollout.create({
    data: {
      serviceId: svc.id,
      strategy: "rolling",
      state: "running",
      fromVersion,
      toVersion,
      fromSpec: JSON.stringify(from),
      toSpec: JSON.stringify(to),
      plan: PLAN(),
      replicas: svc.replicas,
      oldDesired: svc.replicas,
      newDesired: 0,
      reason: "the Deployment rolls its pods (maxSurge 1, maxUnavailable 0): waiting for its status",
      createdBy: actor,
    },
  });
  await recordEvent({
    kind: EVENT_KIND.rolloutStarted,
    actor,
    serviceId: svc.id,
    message: `${actor} changed what ${svc.name} runs (${fromVersion} → ${toVersion}): its Kubernetes Deployment rolls the pods one at a time (maxSurge 1, maxUnavailable 0)`,
    data: { rolloutId: row.id, fromVersion, toVersion },
  });
}

async function update(row: RolloutRow, data: Partial<Pick<RolloutRow, "state" | "reason" | "endedAt">>): Promise<boolean> {
  // only from the state read: a person's Roll back in between wins
  return (await db().rollout.updateMany({ where: { id: row.id, state: row.state }, data })).count === 1;
}

/** The cluster's word on the rolling update, onto the service's active rollout row (if any). */
export async function followClusterRollout(serviceId: string, status: ClusterServiceStatus["update"] | undefined): Promise<void> {
  if (!status || status.outcome === "none") return;
  const row = await activeRollout(serviceId);
  if (!row) return;
  const message = status.message ?? "";
  const event = (kind: (typeof EVENT_KIND)[keyof typeof EVENT_KIND], level: "info" | "warn" | "error", text: string) =>
    recordEvent({ kind, level, actor: "controller", serviceId, message: text, data: { rolloutId: row.id, outcome: status.outcome, detail: message } });
  if (status.outcome === "done") {
    const back = row.state === "rolling_back";
    const reason = back ? `${row.reason ?? "rolled back"}; the Deployment is done with it: ${message}` : `the Deployment is done: ${message}`;
    if (await update(row, { state: back ? "rolled_back" : "promoted", reason, endedAt: new Date() })) {
      if (back) await event(EVENT_KIND.rolloutRolledBack, "error", `rollout rolled back: the Deployment runs the previous template again (${message})`);
      else await event(EVENT_KIND.rolloutPromoted, "info", `rollout done: every pod runs ${row.toVersion} (${message})`);
    }
    return;
  }
  if (status.outcome === "stalled") {
    if (row.state === "running" && (await update(row, { state: "paused", reason: message }))) {
      await event(EVENT_KIND.rolloutPaused, "error", `rollout stalled: the Deployment made no progress within its deadline (ProgressDeadlineExceeded; the old pods keep serving). Roll back to go back. ${message}`);
    } else if (row.state !== "running" && row.reason !== message) await update(row, { reason: message });
    return;
  }
  // updating (progress again after a stall resumes the row)
  if (row.state === "paused") {
    if (await update(row, { state: "running", reason: message })) await event(EVENT_KIND.rolloutResumed, "info", `rollout progressing again: ${message}`);
  } else if (row.state !== "rolling_back" && row.reason !== message) await update(row, { reason: message }); // a rollback keeps who asked for it
}

/**
 * A person's action on a rollout the cluster drives: only rollback (or abort, the same) applies,
 * as kubectl's undo; promote, pause and resume are refused with why.
 */
export async function actOnClusterRollout(svc: Service, row: RolloutRow, action: RolloutAction, actor: string): Promise<void> {
  if (action !== "abort" && action !== "rollback") throw new AppError("conflict", `${svc.name}'s rolling update is driven by its Kubernetes Deployment: ${action} does not apply (rollback goes back to the previous template)`);
  if (row.state === "rolling_back") throw new AppError("conflict", "the rollout is already rolling back");
  const cluster = clusterFor(svc.runtime as "kubernetes");
  if (!cluster.rollback) throw new AppError("conflict", `no rollback on ${svc.runtime}`);
  const done = await cluster.rollback(svc.id);
  // the service's fields back to the old spec, so the controller's next pass keeps that template
  const from = specOf(row.fromSpec);
  await db().service.update({ where: { id: svc.id }, data: { image: from.image, command: from.command ? JSON.stringify(from.command) : null, env: JSON.stringify(from.env) } });
  if (!(await update(row, { state: "rolling_back", reason: `rolled back by ${actor}: ${done.message}` }))) throw new AppError("conflict", "the rollout changed meanwhile: try again");
  await recordEvent({ kind: EVENT_KIND.rolloutRollingBack, actor, serviceId: svc.id, message: `${actor}: rollout rolled back: ${done.message}`, data: { rolloutId: row.id, action } });
}
