import { route } from "@/lib/http";
import { listRevisions } from "@/lib/services/revisions";
import { configTextsFor } from "@/lib/services/views";

export const GET = route("viewer", async ({ user }) => ({ revisions: await configTextsFor(user.role, await listRevisions()) }));
