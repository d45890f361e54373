import { revisionNumberSchema } from "@/lib/core/balancer-views";
import { route } from "@/lib/http";
import { rollbackTo } from "@/lib/services/revisions";

export const POST = route<{ number: string }>("operator", async ({ user, params }) => rollbackTo(revisionNumberSchema.parse(params.number), user));
