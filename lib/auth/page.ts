import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { SESSION_COOKIE, userFromToken, type SessionUser } from "@/lib/auth/sessions";
import { hasAnyUser } from "@/lib/auth/users";

/** For server components: the signed-in user, or a redirect to setup/sign-in. */
export async function requireUser(): Promise<SessionUser> {
  if (!(await hasAnyUser())) redirect("/setup");
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  const user = await userFromToken(token);
  if (!user) redirect("/login");
  return user;
}
