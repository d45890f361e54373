import { clientIp, errorResponse, plainRoute } from "@/lib/http";
import { scrapeMetrics } from "@/lib/services/scrape-metrics";

/**
 * GET /metrics in the Prometheus text format, for Prometheus (a bearer token from
 * Settings → Prometheus; no session: Prometheus cannot sign in). Not under /api, where
 * every route needs a session (lib/http.ts `route`).
 */
export const dynamic = "force-dynamic";

export const GET = plainRoute(async (req) => {
  try {
    const { text, contentType } = await scrapeMetrics(req.headers.get("authorization"), clientIp(req));
    return new Response(text, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
  } catch (e) {
    const res = errorResponse(e);
    if (res.status === 401) res.headers.set("WWW-Authenticate", 'Bearer realm="switchyard metrics"');
    return res;
  }
});
