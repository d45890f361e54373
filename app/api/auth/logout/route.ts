import { clearedSessionCookie, endSession, readCookie, SESSION_COOKIE } from "@/lib/auth/sessions";
import { recordEvent } from "@/lib/events";
import { isSecureRequest, route } from "@/lib/http";

export const POST = route("viewer", async ({ req, user }) => {
  await endSession(readCookie(req.headers.get("cookie"), SESSION_COOKIE));
  await recordEvent({ kind: "auth.signout", actor: user.username, message: `${user.username} signed out` });
  return Response.json({ ok: true }, { headers: { "Set-Cookie": clearedSessionCookie(isSecureRequest(req)) } });
});
