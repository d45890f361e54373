import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { SESSION_COOKIE, userFromToken, type SessionUser } from "@/lib/auth/sessions";
import { hasAnyUser } from "@/lib/auth/users";
import { loginPathFor } from "@/lib/auth/return-path";

/** The header server.ts sets to the path of the request (a copy sent by a client is overwritten there). */
export const REQUEST_PATH_HEADER = "x-switchyard-path";

/** For server components: the signed-in user, or a redirect to setup/sign-in (which returns to this page afterwards). */
export async function requireUser(): Promise<SessionUser> {
  if (!(await hasAnyUser())) redirect("/setup");
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  const user = await userFromToken(token);
  if (!user) redirect(loginPathFor((await headers()).get(REQUEST_PATH_HEADER)));
  return user;
}
