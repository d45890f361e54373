import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import type { BalancerConfig } from "@/lib/engines/types";
import type { SessionUser } from "@/lib/auth/sessions";
import { currentBalancerConfig } from "@/lib/db/balancer-config";
import { revisionRulesOf } from "@/lib/db/rows";
import { applyBalancerConfig, revisionView, unifiedDiff } from "@/lib/services/apply-balancer-config";

export async function listRevisions(limit = 50) {
  const rows = await db().revision.findMany({ orderBy: { number: "desc" }, take: limit });
  // diff of each revision against the applied revision before it
  return rows.map((r) => {
    const prev = rows.find((p) => p.number < r.number && p.status === "applied");
    return { ...revisionView(r), diff: unifiedDiff(prev?.rendered ?? "", r.rendered, `rev${r.number}`) };
  });
}

export async function getRevision(number: number) {
  const r = await db().revision.findUnique({ where: { number } });
  if (!r) throw new AppError("not_found", `no revision ${number}`);
  return { ...revisionView(r), rendered: r.rendered, config: JSON.parse(r.config) as BalancerConfig };
}

/**
 * Roll back: re-apply the rules of an old revision (for every service that
 * still exists) with today's replicas, as a new revision.
 */
export async function rollbackTo(number: number, user: SessionUser) {
  const old = await db().revision.findUnique({ where: { number } });
  if (!old) throw new AppError("not_found", `no revision ${number}`);
  if (old.status === "failed") throw new AppError("conflict", `revision ${number} failed when it was applied; roll back to an applied one`);
  const rules = revisionRulesOf(old);
  const existing = new Set((await db().service.findMany({ select: { id: true } })).map((s) => s.id));
  const overrides = rules.filter((o) => existing.has(o.serviceId));
  return applyBalancerConfig({
    build: () => currentBalancerConfig(overrides),
    author: user.username,
    summary: `rollback to revision ${number}`,
    commit: async () => {
      for (const o of overrides) await db().service.update({ where: { id: o.serviceId }, data: { rules: JSON.stringify(o.rules) } });
    },
  });
}
