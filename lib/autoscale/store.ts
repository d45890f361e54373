import { z } from "zod";
import { db } from "@/lib/db/client";
import { autoscaleTargetSchema, defaultAutoscaleSettings, type AutoscaleSettings } from "@/lib/core/autoscale";

/**
 * The Autoscaler rows (prisma/schema.prisma): a service's settings and the pause a
 * person's slider sets. A service without a row has the defaults, off.
 */

export type StoredAutoscaler = AutoscaleSettings & { serviceId: string; pausedAt: Date | null; pausedBy: string | null };

type Row = { serviceId: string; enabled: boolean; minReplicas: number; maxReplicas: number; windowS: number; targets: string; pausedAt: Date | null; pausedBy: string | null };

const storedTargets = z.array(autoscaleTargetSchema);

/** A row's targets, checked; a row written by another version with targets this one cannot read is taken as off. */
export function autoscalerOf(row: Row): StoredAutoscaler {
  let targets: AutoscaleSettings["targets"] = [];
  let readable = true;
  try {
    targets = storedTargets.parse(JSON.parse(row.targets));
  } catch {
    readable = false;
  }
  return {
    serviceId: row.serviceId,
    enabled: row.enabled && readable && targets.length > 0,
    minReplicas: row.minReplicas,
    maxReplicas: row.maxReplicas,
    windowS: row.windowS,
    targets,
    pausedAt: row.pausedAt,
    pausedBy: row.pausedBy,
  };
}

export async function readAutoscaler(serviceId: string): Promise<StoredAutoscaler> {
  const row = await db().autoscaler.findUnique({ where: { serviceId } });
  return row ? autoscalerOf(row) : { serviceId, ...defaultAutoscaleSettings(), pausedAt: null, pausedBy: null };
}

/** Every enabled autoscaler (paused ones too: the loop skips those). */
export async function enabledAutoscalers(): Promise<StoredAutoscaler[]> {
  const rows = await db().autoscaler.findMany({ where: { enabled: true } });
  return rows.map(autoscalerOf).filter((a) => a.enabled);
}

export async function writeAutoscaler(serviceId: string, s: AutoscaleSettings, pause: { pausedAt: Date | null; pausedBy: string | null }): Promise<void> {
  const data = { enabled: s.enabled, minReplicas: s.minReplicas, maxReplicas: s.maxReplicas, windowS: s.windowS, targets: JSON.stringify(s.targets), ...pause };
  await db().autoscaler.upsert({ where: { serviceId }, create: { serviceId, ...data }, update: data });
}

/**
 * A person moved the slider: an enabled, running autoscaler of this service pauses.
 * Returns true when it paused now (false: off, or paused already).
 */
export async function pauseAutoscaler(serviceId: string, by: string): Promise<boolean> {
  const res = await db().autoscaler.updateMany({ where: { serviceId, enabled: true, pausedAt: null }, data: { pausedAt: new Date(), pausedBy: by } });
  return res.count > 0;
}

/** Returns true when it was paused. */
export async function resumeAutoscaler(serviceId: string): Promise<boolean> {
  const res = await db().autoscaler.updateMany({ where: { serviceId, pausedAt: { not: null } }, data: { pausedAt: null, pausedBy: null } });
  return res.count > 0;
}
