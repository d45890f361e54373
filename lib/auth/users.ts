import { db } from "@/lib/db/client";

/** Has the first admin been created? (Pages send to /setup until it has.) */
export async function hasAnyUser(): Promise<boolean> {
  return (await db().user.count()) > 0;
}
