import { z } from "zod";
import { AppError } from "@/lib/core/errors";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { hashMetricsToken, newMetricsToken } from "@/lib/auth/metrics-tokens";
import type { SessionUser } from "@/lib/auth/sessions";

/** Settings → Prometheus: named bearer tokens for GET /metrics, created and revoked by admins. */

export const createMetricsTokenSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "give the token a name (e.g. the Prometheus that uses it)")
      .max(60)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit"),
  })
  .strict();

export type MetricsTokenView = { id: string; name: string; createdBy: string; createdAt: string; lastUsedAt: string | null };

/** A token as the API lists it (never the token itself; the OpenAPI document, lib/openapi). */
export const metricsTokenViewSchema = z.object({ id: z.string(), name: z.string(), createdBy: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() });

const view = (t: { id: string; name: string; createdBy: string; createdAt: Date; lastUsedAt: Date | null }): MetricsTokenView => ({
  id: t.id,
  name: t.name,
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt ? t.lastUsedAt.toISOString() : null,
});

/** At most this many tokens (one per Prometheus that scrapes the panel is the idea). */
export const MAX_METRICS_TOKENS = 20;

export async function listMetricsTokens(): Promise<MetricsTokenView[]> {
  return (await db().metricsToken.findMany({ orderBy: { createdAt: "asc" } })).map(view);
}

/** A new token: the answer is the only time the token itself is seen. */
export async function createMetricsToken(input: z.infer<typeof createMetricsTokenSchema>, actor: SessionUser): Promise<{ token: string; metricsToken: MetricsTokenView }> {
  if (await db().metricsToken.findUnique({ where: { name: input.name } })) throw new AppError("conflict", `a token named ${input.name} exists; revoke it or pick another name`);
  if ((await db().metricsToken.count()) >= MAX_METRICS_TOKENS) throw new AppError("conflict", `at most ${MAX_METRICS_TOKENS} tokens; revoke one first`);
  const token = newMetricsToken();
  const row = await db().metricsToken.create({ data: { name: input.name, tokenHash: hashMetricsToken(token), createdBy: actor.username } });
  await recordEvent({ kind: "metrics.token-created", actor: actor.username, message: `${actor.username} created the metrics token "${row.name}" (GET /metrics)` });
  return { token, metricsToken: view(row) };
}

export async function revokeMetricsToken(id: string, actor: SessionUser): Promise<{ ok: true }> {
  const row = await db().metricsToken.findUnique({ where: { id } });
  if (!row) throw new AppError("not_found", "no such metrics token");
  await db().metricsToken.delete({ where: { id } });
  await recordEvent({ kind: "metrics.token-revoked", actor: actor.username, message: `${actor.username} revoked the metrics token "${row.name}"` });
  return { ok: true };
}
