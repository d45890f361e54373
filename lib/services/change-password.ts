import { z } from "zod";
import { AppError } from "@/lib/core/errors";
import { passwordSchema } from "@/lib/core/users";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { endOtherSessionsOf, type SessionUser } from "@/lib/auth/sessions";
import { recordFailure, recordSuccess, throttledFor } from "@/lib/auth/throttle";

export const changePasswordSchema = z
  .object({ currentPassword: z.string().min(1, "give your current password").max(200), newPassword: passwordSchema })
  .strict()
  .refine((v) => v.currentPassword !== v.newPassword, { message: "the new password is the same as the current one", path: ["newPassword"] });

export type ChangePasswordInput = z.infer<typeof changePasswordSchema>;

/**
 * Any signed-in user changes their own password: the current one is required (a session
 * left open on a shared machine must not be enough) and its failures count toward the
 * same throttle as sign-ins; the new one is hashed with scrypt; every other session of
 * the user ends (a stolen session stops working), the one in use stays.
 */
export async function changeOwnPassword(user: SessionUser, input: ChangePasswordInput, ip: string): Promise<{ ok: true; endedSessions: number }> {
  const blocked = await throttledFor(user.username, ip);
  if (blocked) throw new AppError("too_many_requests", `too many wrong passwords; try again in ${blocked.waitS} s`, { retryAfterS: blocked.waitS });
  const row = await db().user.findUnique({ where: { id: user.id } });
  if (!row) throw new AppError("unauthorized", "sign in first");
  if (!(await verifyPassword(input.currentPassword, row.passwordHash))) {
    await recordFailure(user.username, ip);
    await recordEvent({ kind: "auth.failed", level: "warn", actor: user.username, message: `${user.username} gave a wrong current password when changing their password`, data: { ip } });
    throw new AppError("forbidden", "the current password is wrong");
  }
  await recordSuccess(user.username, ip);
  await db().user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(input.newPassword) } });
  const ended = await endOtherSessionsOf(user.id, user.sessionId);
  await recordEvent({
    kind: "user.updated",
    actor: user.username,
    message: `${user.username} changed their password${ended ? `; ${ended} other session${ended === 1 ? "" : "s"} ended` : ""}`,
    data: { ip },
  });
  return { ok: true, endedSessions: ended };
}
