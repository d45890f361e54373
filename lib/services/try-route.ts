import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import { parseRules } from "@/lib/db/rows";
import { routesOfServices } from "@/lib/core/route-match";
import { parseTryUrl, tryRoute, type TryResult } from "@/lib/core/route-try";

/**
 * POST /api/routes/try — which route and service a URL reaches on the balancer,
 * by lib/core's matcher (the one every engine follows), with the path the replica
 * receives. Reads the services' saved rules; changes nothing.
 */
export async function tryUrl(input: { url: string; listener?: string }): Promise<TryResult & { url: string }> {
  const parsed = parseTryUrl(input.url);
  if ("error" in parsed) throw new AppError("bad_request", parsed.error);
  const rows = await db().service.findMany({ select: { name: true, rules: true } });
  const services = rows.map((r) => ({ name: r.name, rules: parseRules(r.rules) }));
  const routes = routesOfServices(services).map((r) => ({ ...r, stripPrefix: r.entry.stripPrefix }));
  return { url: input.url, ...tryRoute(routes, parsed.host, parsed.target, input.listener) };
}
