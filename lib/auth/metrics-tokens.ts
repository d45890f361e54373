import crypto from "node:crypto";
import { db } from "@/lib/db/client";

/**
 * Bearer tokens for GET /metrics (Prometheus cannot sign in). A token is 32 random
 * bytes, shown once when an admin creates it; the database keeps only its sha256 (a
 * random 256-bit secret needs no slow hash). A scrape's token is hashed and compared
 * with every stored hash in constant time (no early exit on the first byte that differs,
 * no lookup whose timing depends on the token).
 */

export const METRICS_TOKEN_PREFIX = "sy_metrics_";
/** prefix + 64 hex digits */
const TOKEN_SHAPE = /^sy_metrics_[0-9a-f]{64}$/;
const LAST_USED_EVERY_MS = 60_000;

export const hashMetricsToken = (token: string): string => crypto.createHash("sha256").update(token).digest("hex");

export function newMetricsToken(): string {
  return METRICS_TOKEN_PREFIX + crypto.randomBytes(32).toString("hex");
}

/** The token of an `Authorization: Bearer <token>` header, or null (absent, another scheme, not a token's shape). */
export function bearerTokenOf(header: string | null): string | null {
  if (!header || header.length > 200) return null;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") return null;
  const token = header.slice(space + 1).trim();
  return TOKEN_SHAPE.test(token) ? token : null;
}

/** The stored token this header carries ({id, name}), or null. Marks it used (at most once a minute). */
export async function metricsTokenFor(header: string | null, now = Date.now()): Promise<{ id: string; name: string } | null> {
  const token = bearerTokenOf(header);
  const presented = Buffer.from(hashMetricsToken(token ?? ""), "hex");
  const rows = await db().metricsToken.findMany({ select: { id: true, name: true, tokenHash: true, lastUsedAt: true } });
  let found: (typeof rows)[number] | null = null;
  for (const row of rows) {
    const stored = Buffer.from(row.tokenHash, "hex");
    if (stored.length === presented.length && crypto.timingSafeEqual(stored, presented) && token !== null) found = row;
  }
  if (!found) return null;
  if (!found.lastUsedAt || now - found.lastUsedAt.getTime() > LAST_USED_EVERY_MS) {
    await db()
      .metricsToken.update({ where: { id: found.id }, data: { lastUsedAt: new Date(now) } })
      .catch(() => undefined); // revoked meanwhile
  }
  return { id: found.id, name: found.name };
}
