import { storedRangeSchema } from "@/lib/core/metric-history";
import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { readMetricsHistory } from "@/lib/services/metrics-history";

type P = { id: string };

/** GET /api/services/:id/metrics?range=15m|1h|24h: the stored minute points of that range, bucketed, as ticks. */
export const GET = route<P>("viewer", async ({ req, params }) => {
  const range = storedRangeSchema.parse(new URL(req.url).searchParams.get("range") ?? "1h");
  return readMetricsHistory(idParamSchema.parse(params.id), range);
});
