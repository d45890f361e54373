import { body, route } from "@/lib/http";
import { createMetricsToken, createMetricsTokenSchema, listMetricsTokens } from "@/lib/services/manage-metrics-tokens";

/** Settings → Prometheus: the bearer tokens of GET /metrics (admins only; the token itself is in the creation's answer alone). */
export const GET = route("admin", async () => ({ tokens: await listMetricsTokens() }));

export const POST = route("admin", async ({ req, user }) => Response.json(await createMetricsToken(await body(req, createMetricsTokenSchema), user), { status: 201 }));
