import { previewRequestSchema } from "@/lib/core/balancer-views";
import { body, route } from "@/lib/http";
import { hasRole } from "@/lib/core/roles";
import { previewRules } from "@/lib/services/apply-rules";
import { configTextsFor } from "@/lib/services/views";

/** Renders a proposed change and diffs it against the live config. Changes nothing; a viewer's preview runs no engine binary. */
export const POST = route("viewer", async ({ req, user }) => {
  const input = await body(req, previewRequestSchema);
  return configTextsFor(user.role, await previewRules(input.serviceId, input.rules as never, { user, runCheck: hasRole(user.role, "operator") }));
});
