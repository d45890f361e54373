import { tryRequestSchema } from "@/lib/core/route-try";
import { body, route } from "@/lib/http";
import { tryUrl } from "@/lib/services/try-route";

/** Which route and service a URL reaches (lib/core's matcher); changes nothing. */
export const POST = route("viewer", async ({ req }) => {
  const input = await body(req, tryRequestSchema);
  return tryUrl(input);
});
