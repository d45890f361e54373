import { certificateIdSchema } from "@/lib/core/listeners";
import { route } from "@/lib/http";
import { deleteCertificate } from "@/lib/services/manage-certificates";

export const DELETE = route<{ id: string }>("admin", async ({ user, params }) => deleteCertificate(certificateIdSchema.parse(params.id), user));
