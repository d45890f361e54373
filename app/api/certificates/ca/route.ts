import { route } from "@/lib/http";
import { localCaCertificate } from "@/lib/services/manage-certificates";

/** The panel's local CA root (public), to trust in a browser or pass to curl --cacert. */
export const GET = route("viewer", async () =>
  new Response(await localCaCertificate(), {
    headers: { "content-type": "application/x-pem-file", "content-disposition": 'attachment; filename="switchyard-local-ca.crt"' },
  }),
);
