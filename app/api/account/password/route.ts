import { body, route } from "@/lib/http";
import { changeOwnPassword, changePasswordSchema } from "@/lib/services/change-password";

/** POST /api/account/password {currentPassword, newPassword}: every user, their own password. */
export const POST = route("viewer", async ({ req, user, ip }) => changeOwnPassword(user, await body(req, changePasswordSchema), ip));
