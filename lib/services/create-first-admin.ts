import { AppError } from "@/lib/core/errors";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { hashPassword } from "@/lib/auth/password";
import { hasAnyUser } from "@/lib/auth/users";

/**
 * Create the first admin. Race-safe in the database: the first admin carries
 * firstAdmin = 1, which is unique, so a second concurrent "first admin" fails
 * on the index even if both requests saw an empty user table.
 */
export async function createFirstAdmin(input: { username: string; password: string }, actor = "setup") {
  if (await hasAnyUser()) throw new AppError("conflict", "the first admin already exists; sign in instead");
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await db().user.create({ data: { username: input.username, passwordHash, role: "admin", firstAdmin: 1 } });
    await recordEvent({ kind: "user.created", actor, message: `first admin ${user.username} created` });
    return { id: user.id, username: user.username, role: "admin" as const };
  } catch (e) {
    if (e instanceof Error && /Unique constraint|P2002/.test(e.message + String((e as { code?: string }).code))) {
      throw new AppError("conflict", "the first admin already exists; sign in instead");
    }
    throw e;
  }
}
