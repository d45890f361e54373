import { recordEvent } from "@/lib/events";
import type { AlertSettings, AlertSettingsView } from "@/lib/core/alerts";
import type { SessionUser } from "@/lib/auth/sessions";
import { readAlertSettings, writeAlertSettings } from "@/lib/alerts/store";
import { alertLoop } from "@/lib/alerts/loop";

type Actor = Pick<SessionUser, "username" | "role">;

/** The rules, the webhook without its secret (whether there is one), and what fires now. */
export async function getAlerts(): Promise<AlertSettingsView> {
  const s = await readAlertSettings();
  return {
    webhook: s.webhook ? { url: s.webhook.url, signed: Boolean(s.webhook.secret) } : null,
    rules: s.rules,
    active: alertLoop()
      .active()
      .map((a) => ({ key: a.key, ruleId: a.ruleId, serviceId: a.serviceId, serviceName: a.serviceName, replicaId: a.replicaId, phase: a.phase === "resolving" ? "resolving" : "firing", startsAt: a.startsAt, summary: a.summary })),
  };
}

/** Save the rules and the webhook; a webhook given without `secret` keeps the one it had ("" removes it). */
export async function saveAlerts(input: AlertSettings, actor: Actor): Promise<AlertSettingsView> {
  const before = await readAlertSettings();
  const webhook = input.webhook ? { url: input.webhook.url, secret: input.webhook.secret ?? before.webhook?.secret ?? "" } : null;
  await writeAlertSettings({ webhook, rules: input.rules });
  await recordEvent({
    kind: "alert.settings",
    actor: actor.username,
    message: `${actor.username} saved ${input.rules.length} alert rule${input.rules.length === 1 ? "" : "s"}, ${webhook ? `webhook ${new URL(webhook.url).origin}${webhook.secret ? " (signed)" : ""}` : "no webhook"}`,
  });
  return getAlerts();
}
