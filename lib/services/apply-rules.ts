import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import { rulesSchema, type Rules, type RulesInput } from "@/lib/core/rules";
import type { SessionUser } from "@/lib/auth/sessions";
import { currentBalancerConfig, storedListeners } from "@/lib/db/balancer-config";
import { unknownRouteListeners } from "@/lib/core/route-listeners";
import { parseRules } from "@/lib/db/rows";
import { conflictingRoute } from "@/lib/core/routes";
import { routesOfServices } from "@/lib/core/route-match";
import { describeShadow, shadowFindings, type ShadowFinding } from "@/lib/core/route-shadow";
import { summarizeRulesChange } from "@/lib/core/rules-summary";
import { engine as panelEngine } from "@/lib/engines/registry";
import { assertSupported } from "@/lib/engines/capabilities";
import { assertSwarmSupported } from "@/lib/engines/swarm/capabilities";
import { shownConfig } from "@/lib/engines/types";
import { applyBalancerConfig, unifiedDiff } from "@/lib/services/apply-balancer-config";
import { takeSlot } from "@/lib/rate-limit";

async function otherServices(serviceId: string): Promise<{ name: string; rules: Rules }[]> {
  const rows = await db().service.findMany({ where: { id: { not: serviceId } }, select: { name: true, rules: true } });
  return rows.map((o) => ({ name: o.name, rules: parseRules(o.rules) }));
}

/** The routes that `rules` on service `name` would hide, or that hide its routes, among `others` (lib/core/route-shadow). */
function shadowsWith(name: string, rules: Rules, others: { name: string; rules: Rules }[]): ShadowFinding[] {
  return shadowFindings(routesOfServices([...others, { name, rules }]), name);
}

/**
 * PUT /api/services/:id/rules — validate, apply safely, record a revision. A route
 * no request could reach (shadowed, lib/core/route-shadow) is refused with
 * `route_shadowed`, naming the route that hides it, unless `force` is set.
 */
export async function applyRules(serviceId: string, input: { baseRevision: number; rules: RulesInput; force?: boolean }, user: SessionUser) {
  const svc = await db().service.findUnique({ where: { id: serviceId } });
  if (!svc) throw new AppError("not_found", "no such service");
  const rules = rulesSchema.parse(input.rules);
  assertSupported(panelEngine(), rules);
  if (svc.runtime === "swarm") assertSwarmSupported(rules);
  const others = await otherServices(serviceId);
  const clash = conflictingRoute(rules, others);
  if (clash) throw new AppError("conflict", `the route ${clash.route} belongs to service ${clash.service}; choose another host or path`);
  const unknown = unknownRouteListeners(routesOfServices([{ name: svc.name, rules }]), (await storedListeners()).map((l) => l.name));
  if (unknown.length > 0) {
    throw new AppError("bad_request", `route ${unknown[0].index + 1} names the listener ${unknown[0].listener}, which does not exist; add it under Listeners on the Balancer page first`, { unknownListeners: unknown });
  }
  const shadowed = shadowsWith(svc.name, rules, others);
  if (shadowed.length > 0 && input.force !== true) {
    throw new AppError("route_shadowed", `${shadowed.map(describeShadow).join("; ")}. Change the priorities or paths, or apply with force to keep it`, { shadowed });
  }
  const result = await applyBalancerConfig({
    build: () => currentBalancerConfig([{ serviceId, rules }]),
    author: user.username,
    summary: `${svc.name}: ${summarizeRulesChange(parseRules(svc.rules), rules)}`,
    serviceId,
    baseRevision: input.baseRevision,
    commit: async () => {
      await db().service.update({ where: { id: serviceId }, data: { rules: JSON.stringify(rules) } });
    },
  });
  return { ...result, rules };
}

/** POST /api/balancer/preview — render a proposed change and diff it against the live config; changes nothing. */
/** Previews per user per minute: each may run the engine's binary (haproxy -c, nginx -t). */
export const PREVIEWS_PER_MINUTE = 30;

/**
 * Renders a proposed change and diffs it against the live config. The engine's own
 * check (a process) runs only with `runCheck` (operators and admins, who can apply);
 * a viewer's preview is the render and the diff. Every caller gets PREVIEWS_PER_MINUTE.
 */
export async function previewRules(serviceId: string, input: RulesInput, opts: { user: SessionUser; runCheck: boolean }) {
  const svc = await db().service.findUnique({ where: { id: serviceId } });
  if (!svc) throw new AppError("not_found", "no such service");
  const rules = rulesSchema.parse(input);
  const engine = panelEngine();
  assertSupported(engine, rules);
  if (svc.runtime === "swarm") assertSwarmSupported(rules);
  // counted once the input is valid: refusing bad input costs nothing, rendering and checking does
  const wait = takeSlot("previews", opts.user.id, PREVIEWS_PER_MINUTE, 60_000);
  if (wait) throw new AppError("too_many_requests", `too many previews; try again in ${wait.waitS} s`, { retryAfterS: wait.waitS });
  const config = await currentBalancerConfig([{ serviceId, rules }]);
  const real = engine.render(config);
  const checked = opts.runCheck ? await engine.check(real) : null;
  const check = checked === null ? { ok: null, skipped: "the engine's own check runs for operators and admins" } : checked.ok ? checked : { ok: false as const, error: shownConfig(engine, checked.error) };
  // what reaches the browser: secrets replaced in the proposal, the live file and their diff
  const rendered = shownConfig(engine, real);
  const live = shownConfig(engine, (await engine.liveConfig()) ?? "");
  // routes no request would reach: apply refuses them unless forced
  const shadowed = shadowsWith(svc.name, rules, await otherServices(serviceId));
  return { engine: engine.kind, rendered, live, diff: unifiedDiff(live, rendered, engine.kind), check, shadowed: shadowed.map((f) => ({ ...f, message: describeShadow(f) })) };
}
