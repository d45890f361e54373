import { route } from "@/lib/http";
import { listRevisions } from "@/lib/services/revisions";

export const GET = route("viewer", async () => ({ revisions: await listRevisions() }));
