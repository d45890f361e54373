import { idParamSchema, replicaLogsQuerySchema } from "@/lib/core/service";
import { route } from "@/lib/http";
import { replicaLogsFor } from "@/lib/services/replica-logs";

/** Every role reads logs; a viewer's have secrets and paths replaced (lib/services/replica-logs.ts). */
export const GET = route<{ id: string }>("viewer", async ({ req, user, params }) => {
  const { lines } = replicaLogsQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
  return { lines: await replicaLogsFor(user.role, idParamSchema.parse(params.id), lines) };
});
