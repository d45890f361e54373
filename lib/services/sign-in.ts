import { AppError } from "@/lib/core/errors";
import { isRole } from "@/lib/core/roles";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { DUMMY_HASH, verifyPassword } from "@/lib/auth/password";
import { createSession } from "@/lib/auth/sessions";
import { recordAttempt, throttledFor } from "@/lib/auth/throttle";

/** Check credentials (throttled per user name and per address) and open a session. */
export async function signIn(input: { username: string; password: string; ip: string }) {
  const keys = [`user:${input.username.toLowerCase()}`, `ip:${input.ip}`];
  const wait = await throttledFor(keys);
  if (wait > 0) {
    await recordEvent({ kind: "auth.throttled", level: "warn", actor: input.username, message: `sign-in refused for ${input.username}: too many failed attempts`, data: { ip: input.ip } });
    throw new AppError("too_many_requests", `too many failed sign-ins; try again in ${wait} s`, { retryAfterS: wait });
  }
  const user = await db().user.findUnique({ where: { username: input.username } });
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok || !isRole(user.role)) {
    await recordAttempt(keys, false);
    await recordEvent({ kind: "auth.failed", level: "warn", actor: input.username, message: `failed sign-in for ${input.username}`, data: { ip: input.ip } });
    throw new AppError("unauthorized", "wrong user name or password");
  }
  await recordAttempt(keys, true);
  const session = await createSession(user.id);
  await recordEvent({ kind: "auth.signin", actor: user.username, message: `${user.username} signed in`, data: { ip: input.ip } });
  return { user: { id: user.id, username: user.username, role: user.role }, ...session };
}
