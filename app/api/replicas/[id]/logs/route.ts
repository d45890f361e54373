import { z } from "zod";
import { idParamSchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { replicaLogs } from "@/lib/services/replica-logs";

const query = z.object({ lines: z.coerce.number().int().min(1).max(2000).default(200) });

export const GET = route<{ id: string }>("operator", async ({ req, params }) => {
  const { lines } = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  return { lines: await replicaLogs(idParamSchema.parse(params.id), lines) };
});
