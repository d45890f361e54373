import { setupSchema } from "@/lib/core/users";
import { body, isSecureRequest, publicRoute } from "@/lib/http";
import { sessionCookie, createSession } from "@/lib/auth/sessions";
import { createFirstAdmin } from "@/lib/services/create-first-admin";

/** Creates the first admin while no user exists (409 afterwards), and signs it in. */
export const POST = publicRoute(async ({ req }) => {
  const input = await body(req, setupSchema);
  const user = await createFirstAdmin(input);
  const { token, expiresAt } = await createSession(user.id);
  return Response.json({ user }, { status: 201, headers: { "Set-Cookie": sessionCookie(token, expiresAt, isSecureRequest(req)) } });
});
