import { z } from "zod";
import { listenerNameSchema } from "@/lib/core/rules";
import { body, route } from "@/lib/http";
import { tryUrl } from "@/lib/services/try-route";

const trySchema = z.object({ url: z.string().max(2048), listener: listenerNameSchema.optional() }).strict();

/** Which route and service a URL reaches (lib/core's matcher); changes nothing. */
export const POST = route("viewer", async ({ req }) => {
  const input = await body(req, trySchema);
  return tryUrl(input);
});
