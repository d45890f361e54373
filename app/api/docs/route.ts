import { route } from "@/lib/http";
import { DOCS_HTML, DOCS_SIGN_IN_HTML } from "@/lib/openapi/docs-page";
import { docsContentSecurityPolicy } from "@/lib/security-headers";

const html = (text: string, status = 200) => new Response(text, { status, headers: { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": docsContentSecurityPolicy() } });

/** GET /api/docs: Swagger UI over /api/openapi.json, for signed-in users; others get a 401 page that says where to sign in. */
export const GET = route("viewer", async () => html(DOCS_HTML), { anonymous: () => html(DOCS_SIGN_IN_HTML, 401) });
