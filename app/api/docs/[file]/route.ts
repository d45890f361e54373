import { AppError } from "@/lib/core/errors";
import { route } from "@/lib/http";
import { docsFile } from "@/lib/openapi/docs-page";

/** GET /api/docs/{file}: Swagger UI's script and style (swagger-ui-dist, from node_modules) and the page's own; an allow-list, no path. */
export const GET = route<{ file: string }>("viewer", async ({ params }) => {
  const f = docsFile(params.file);
  if (!f) throw new AppError("not_found", `no docs file ${params.file.slice(0, 80)}`);
  return new Response(new Uint8Array(Buffer.from(f.body)), { headers: { "Content-Type": f.type, "Cache-Control": "private, max-age=3600" } });
});
