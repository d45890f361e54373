import { z } from "zod";
import { route } from "@/lib/http";
import { getRevision } from "@/lib/services/revisions";
import { configTextsFor } from "@/lib/services/views";

export const GET = route<{ number: string }>("viewer", async ({ params, user }) => ({
  revision: await configTextsFor(user.role, await getRevision(z.coerce.number().int().min(1).parse(params.number))),
}));
