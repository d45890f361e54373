import { z } from "zod";
import { route } from "@/lib/http";
import { rollbackTo } from "@/lib/services/revisions";

export const POST = route<{ number: string }>("operator", async ({ user, params }) => rollbackTo(z.coerce.number().int().min(1).parse(params.number), user));
