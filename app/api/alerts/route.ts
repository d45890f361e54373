import { alertSettingsSchema } from "@/lib/core/alerts";
import { body, route } from "@/lib/http";
import { getAlerts, saveAlerts } from "@/lib/services/manage-alerts";

/** Alert rules and the webhook (issue 16): every role reads them (never the secret), admins change them. */
export const GET = route("viewer", async () => ({ alerts: await getAlerts() }));

export const PUT = route("admin", async ({ req, user }) => ({ alerts: await saveAlerts(await body(req, alertSettingsSchema), user) }));
