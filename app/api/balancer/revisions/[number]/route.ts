import { revisionNumberSchema } from "@/lib/core/balancer-views";
import { route } from "@/lib/http";
import { getRevision } from "@/lib/services/revisions";
import { configTextsFor } from "@/lib/services/views";

export const GET = route<{ number: string }>("viewer", async ({ params, user }) => ({
  revision: await configTextsFor(user.role, await getRevision(revisionNumberSchema.parse(params.number))),
}));
