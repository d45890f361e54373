import { createCertificateSchema } from "@/lib/core/listeners";
import { body, route } from "@/lib/http";
import { createCertificate, listCertificates } from "@/lib/services/manage-certificates";

// viewers see the public facts only: no key ever leaves the data folder
export const GET = route("viewer", async () => ({ certificates: await listCertificates() }));

export const POST = route("admin", async ({ req, user }) => Response.json({ certificate: await createCertificate(await body(req, createCertificateSchema), user) }, { status: 201 }));
