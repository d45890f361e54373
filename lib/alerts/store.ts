import { db } from "@/lib/db/client";
import { alertSettingsSchema, type AlertSettings } from "@/lib/core/alerts";

/** The alert rules and the webhook, kept as one JSON setting (the secret with them; only admins change it, nobody reads it back). */
const KEY = "alerts";

export async function readAlertSettings(): Promise<AlertSettings> {
  const row = await db().setting.findUnique({ where: { key: KEY } });
  if (!row) return { webhook: null, rules: [] };
  try {
    return alertSettingsSchema.parse(JSON.parse(row.value));
  } catch {
    // written by another version with something this one cannot read: no alerts rather than wrong ones
    return { webhook: null, rules: [] };
  }
}

export async function writeAlertSettings(s: AlertSettings): Promise<void> {
  const value = JSON.stringify(s);
  await db().setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
}
