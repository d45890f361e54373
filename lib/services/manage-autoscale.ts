import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { METRIC_LOOK, formatFigure, type AutoscaleSettings, type AutoscaleView } from "@/lib/core/autoscale";
import type { SessionUser } from "@/lib/auth/sessions";
import { readAutoscaler, resumeAutoscaler, writeAutoscaler } from "@/lib/autoscale/store";
import { autoscaleLoop } from "@/lib/autoscale/loop";

type Actor = Pick<SessionUser, "username" | "role">;

/** How many of its last changes the card lists. */
const DECISIONS_SHOWN = 10;

async function serviceOrThrow(id: string) {
  const svc = await db().service.findUnique({ where: { id } });
  if (!svc) throw new AppError("not_found", "no such service");
  return svc;
}

/** A service's autoscaler: its settings, whether a person paused it, the loop's last word and its last changes. */
export async function getAutoscale(serviceId: string): Promise<AutoscaleView> {
  await serviceOrThrow(serviceId);
  const a = await readAutoscaler(serviceId);
  const events = await db().event.findMany({ where: { serviceId, kind: EVENT_KIND.autoscaleScaled }, orderBy: { id: "desc" }, take: DECISIONS_SHOWN });
  return {
    serviceId,
    enabled: a.enabled,
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    windowS: a.windowS,
    targets: a.targets,
    paused: a.pausedAt ? { at: a.pausedAt.toISOString(), by: a.pausedBy ?? "someone" } : null,
    status: a.enabled && !a.pausedAt ? autoscaleLoop().status(serviceId) : null,
    decisions: events.map((e) => {
      let data: { from?: number; to?: number } = {};
      try {
        data = e.data ? JSON.parse(e.data) : {};
      } catch {
        /* an unreadable row still lists its message */
      }
      return { id: e.id, at: e.at.toISOString(), from: data.from ?? 0, to: data.to ?? 0, message: e.message };
    }),
  };
}

/**
 * Save the settings. Saving is a person's word on autoscaling, so it also lifts a pause
 * the slider set. The bounds stay within the service's own (the slider's) min and max.
 */
export async function saveAutoscale(serviceId: string, input: AutoscaleSettings, actor: Actor): Promise<AutoscaleView> {
  const svc = await serviceOrThrow(serviceId);
  if (input.maxReplicas > svc.maxReplicas) throw new AppError("bad_request", `maxReplicas: at most ${svc.maxReplicas}, the most ${svc.name} may run`);
  if (input.minReplicas < svc.minReplicas) throw new AppError("bad_request", `minReplicas: at least ${svc.minReplicas}, the fewest ${svc.name} may run`);
  await writeAutoscaler(serviceId, input, { pausedAt: null, pausedBy: null });
  autoscaleLoop().reset(serviceId);
  const targets = input.targets.map((t) => `${METRIC_LOOK[t.metric].short} ${formatFigure(t.metric, t.value)}`).join(", ");
  await recordEvent({
    kind: "autoscale.updated",
    actor: actor.username,
    serviceId,
    message: input.enabled
      ? `${actor.username} turned the autoscaler of ${svc.name} on: ${input.minReplicas}-${input.maxReplicas} replicas, targets ${targets}, scale-down window ${input.windowS} s`
      : `${actor.username} turned the autoscaler of ${svc.name} off`,
    data: input,
  });
  return getAutoscale(serviceId);
}

/** Lift the pause a person's slider set: the autoscaler decides again from its next evaluation. */
export async function resumeAutoscale(serviceId: string, actor: Actor): Promise<AutoscaleView> {
  const svc = await serviceOrThrow(serviceId);
  const a = await readAutoscaler(serviceId);
  if (!a.enabled) throw new AppError("conflict", `the autoscaler of ${svc.name} is off: turn it on to resume it`);
  if (await resumeAutoscaler(serviceId)) {
    autoscaleLoop().reset(serviceId);
    await recordEvent({ kind: "autoscale.resumed", actor: actor.username, serviceId, message: `${actor.username} resumed the autoscaler of ${svc.name}` });
  }
  return getAutoscale(serviceId);
}
