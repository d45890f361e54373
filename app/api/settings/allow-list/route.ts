import { allowListSchema } from "@/lib/core/run-policy";
import { body, route } from "@/lib/http";
import { getAllowList, setAllowList } from "@/lib/services/manage-allow-list";

/** Operators read it (the service form shows it); viewers do not (it lists commands). */
export const GET = route("operator", async () => ({ allowList: await getAllowList() }));

export const PUT = route("admin", async ({ req, user }) => ({ allowList: await setAllowList(await body(req, allowListSchema), user) }));
