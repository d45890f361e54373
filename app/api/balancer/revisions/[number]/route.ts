import { z } from "zod";
import { route } from "@/lib/http";
import { getRevision } from "@/lib/services/revisions";

export const GET = route<{ number: string }>("viewer", async ({ params }) => ({ revision: await getRevision(z.coerce.number().int().min(1).parse(params.number)) }));
