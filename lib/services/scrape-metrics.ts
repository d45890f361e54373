import { AppError } from "@/lib/core/errors";
import { recordRepeated } from "@/lib/events";
import { metricsTokenFor } from "@/lib/auth/metrics-tokens";
import { metricsText } from "@/lib/metrics/registry";

/** How long refused scrapes from one address add up in one audit event. */
const DENIED_EVENT_WINDOW_MS = 60_000;

/**
 * GET /metrics: the Prometheus text for a caller with a metrics token (Settings →
 * Prometheus), never for a session cookie. A refused scrape is audited (one
 * `metrics.denied` event per address and minute, counting the repeats).
 */
export async function scrapeMetrics(authorization: string | null, ip: string): Promise<{ text: string; contentType: string }> {
  const token = await metricsTokenFor(authorization);
  if (!token) {
    const why = authorization ? "a token that is not a current metrics token" : "no bearer token";
    await recordRepeated(`metrics.denied ${ip}`, DENIED_EVENT_WINDOW_MS, (count) => ({
      kind: "metrics.denied",
      level: "warn",
      actor: ip,
      message: `GET /metrics refused from ${ip}: ${why}${count > 1 ? ` (${count} times in a minute)` : ""}`,
      data: { count },
    }));
    throw new AppError("unauthorized", "GET /metrics needs Authorization: Bearer <token>, a metrics token an admin creates in Settings → Prometheus");
  }
  return metricsText();
}
