import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import type { BalancerConfig } from "@/lib/engines/types";
import type { SessionUser } from "@/lib/auth/sessions";
import { currentBalancerConfig } from "@/lib/db/balancer-config";
import { parseRules, revisionRulesOf } from "@/lib/db/rows";
import { rollbackSummary, rulesText, serverChanges, snapshotServices } from "@/lib/core/revision-changes";
import { applyBalancerConfig, revisionView, unifiedDiff } from "@/lib/services/apply-balancer-config";
import { listenersOfRevision, restoreListeners } from "@/lib/services/manage-listeners";

/**
 * Each revision with what it changed against the applied revision before it: `rulesDiff`,
 * the rules alone (the revision's own change), `scaling`, the servers scaling added or
 * removed between the two (no revision of their own), and `diff`, the engine config,
 * which holds both.
 */
export async function listRevisions(limit = 50) {
  // one more than shown, so the oldest shown has the revision before it to diff against
  const rows = await db().revision.findMany({ orderBy: { number: "desc" }, take: limit + 10 });
  return rows.slice(0, limit).map((r) => {
    const prev = rows.find((p) => p.number < r.number && p.status === "applied");
    const before = snapshotServices(prev?.config);
    const after = snapshotServices(r.config);
    return {
      ...revisionView(r),
      diff: unifiedDiff(prev?.rendered ?? "", r.rendered, `rev${r.number}`),
      rulesDiff: rulesText(before) === rulesText(after) ? "" : unifiedDiff(rulesText(before), rulesText(after), `rules-rev${r.number}`),
      scaling: prev ? serverChanges(before, after) : [],
      previous: prev?.number ?? null,
    };
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
  const services = await db().service.findMany({ select: { id: true, name: true, rules: true } });
  const existing = new Set(services.map((s) => s.id));
  const overrides = rules.filter((o) => existing.has(o.serviceId));
  const nameOf = (id: string) => services.find((s) => s.id === id)?.name ?? id;
  const summary = rollbackSummary(
    number,
    services.map((s) => ({ name: s.name, rules: parseRules(s.rules) })),
    overrides.map((o) => ({ name: nameOf(o.serviceId), rules: o.rules })),
  );
  const listeners = listenersOfRevision(old.config); // null: a revision from before listeners leaves them as they are
  return applyBalancerConfig({
    build: () => currentBalancerConfig(overrides, [], listeners ?? undefined),
    author: user.username,
    summary,
    commit: async () => {
      for (const o of overrides) await db().service.update({ where: { id: o.serviceId }, data: { rules: JSON.stringify(o.rules) } });
      if (listeners) await restoreListeners(listeners);
    },
  });
}
