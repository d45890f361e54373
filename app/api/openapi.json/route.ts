import { route } from "@/lib/http";
import { openApiDocument } from "@/lib/openapi/serve";

/** The OpenAPI 3.1 document of this API, for signed-in users (lib/openapi/document.ts says why not public). */
export const GET = route("viewer", async () => openApiDocument());
