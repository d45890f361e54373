import { credentialsSchema } from "@/lib/core/users";
import { body, isSecureRequest, publicRoute } from "@/lib/http";
import { sessionCookie } from "@/lib/auth/sessions";
import { signIn } from "@/lib/services/sign-in";

export const POST = publicRoute(async ({ req, ip }) => {
  const input = await body(req, credentialsSchema);
  const { user, token, expiresAt } = await signIn({ ...input, ip });
  return Response.json({ user }, { headers: { "Set-Cookie": sessionCookie(token, expiresAt, isSecureRequest(req)) } });
});
