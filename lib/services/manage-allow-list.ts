import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { allowListSchema, emptyAllowList, type AllowList } from "@/lib/core/run-policy";
import type { SessionUser } from "@/lib/auth/sessions";

/** The allow-list of images and commands operators may run (lib/core/run-policy.ts), kept as one JSON setting. */
const KEY = "run-allow-list";

export async function getAllowList(): Promise<AllowList> {
  const row = await db().setting.findUnique({ where: { key: KEY } });
  if (!row) return emptyAllowList();
  const parsed = allowListSchema.safeParse(JSON.parse(row.value));
  // a value this version cannot read allows nothing beyond the built-in app, rather than anything
  return parsed.success ? parsed.data : emptyAllowList();
}

/** PUT /api/settings/allow-list (admins): replaces the list; the change is an event. */
export async function setAllowList(input: AllowList, actor: Pick<SessionUser, "username">): Promise<AllowList> {
  const list = { images: [...new Set(input.images)], commands: input.commands.filter((c, i, all) => all.findIndex((d) => JSON.stringify(d) === JSON.stringify(c)) === i) };
  const value = JSON.stringify(list);
  await db().setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
  await recordEvent({
    kind: "settings.allow-list",
    actor: actor.username,
    message: `${actor.username} set what operators may run: ${list.images.length} image(s), ${list.commands.length} command(s) besides the built-in replica app`,
  });
  return list;
}
