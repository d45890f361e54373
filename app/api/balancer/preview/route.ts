import { z } from "zod";
import { idParamSchema } from "@/lib/core/service";
import { body, route } from "@/lib/http";
import { previewRules } from "@/lib/services/apply-rules";

const previewSchema = z.object({ serviceId: idParamSchema, rules: z.unknown() }).strict();

/** Renders a proposed change and diffs it against the live config. Changes nothing. */
export const POST = route("viewer", async ({ req }) => {
  const input = await body(req, previewSchema);
  return previewRules(input.serviceId, input.rules as never);
});
