import { AppError } from "@/lib/core/errors";
import { isRole } from "@/lib/core/roles";
import { db } from "@/lib/db/client";
import { recordEvent, recordRepeated } from "@/lib/events";
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from "@/lib/auth/password";
import { createSession } from "@/lib/auth/sessions";
import { recordFailure, recordSuccess, takeAttempt, throttledFor, type Throttle } from "@/lib/auth/throttle";

/** Refused sign-ins from one address within this window are one event with a count. */
const THROTTLE_EVENT_WINDOW_MS = 60_000;

async function refuse(t: Throttle, username: string, ip: string): Promise<never> {
  const why = { pair: `too many failed sign-ins for ${username} from this address`, address: "too many failed sign-ins from this address", attempts: "too many sign-ins from this address" }[t.scope];
  await recordRepeated(`auth.throttled ${ip}`, THROTTLE_EVENT_WINDOW_MS, (count) => ({
    kind: "auth.throttled",
    level: "warn",
    actor: username,
    message: `sign-ins refused from ${ip}: ${why}${count > 1 ? ` (${count} refused in this minute)` : ""}`,
    data: { ip, scope: t.scope, count },
  }));
  throw new AppError("too_many_requests", `${why}; try again in ${t.waitS} s`, { retryAfterS: t.waitS });
}

/** Check credentials (throttled per name and address, per address, and per minute) and open a session. */
export async function signIn(input: { username: string; password: string; ip: string }) {
  const early = takeAttempt(input.ip);
  if (early) return refuse(early, input.username, input.ip);
  const blocked = await throttledFor(input.username, input.ip);
  if (blocked) return refuse(blocked, input.username, input.ip);
  const user = await db().user.findUnique({ where: { username: input.username } });
  const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok || !isRole(user.role)) {
    await recordFailure(input.username, input.ip);
    await recordEvent({ kind: "auth.failed", level: "warn", actor: input.username, message: `failed sign-in for ${input.username}`, data: { ip: input.ip } });
    throw new AppError("unauthorized", "wrong user name or password");
  }
  await recordSuccess(input.username, input.ip);
  if (needsRehash(user.passwordHash)) {
    // a hash from before (bcrypt): replace it while the password is at hand
    await db().user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(input.password) } });
  }
  const session = await createSession(user.id);
  await recordEvent({ kind: "auth.signin", actor: user.username, message: `${user.username} signed in`, data: { ip: input.ip } });
  return { user: { id: user.id, username: user.username, role: user.role }, ...session };
}
