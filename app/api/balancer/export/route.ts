import { route } from "@/lib/http";
import { exportConfig, exportQuerySchema } from "@/lib/services/balancer-overview";
import { configTextsFor } from "@/lib/services/views";

export const GET = route("viewer", async ({ req, user }) => {
  const { engine } = exportQuerySchema.parse(Object.fromEntries(new URL(req.url).searchParams));
  const out = await configTextsFor(user.role, await exportConfig(engine));
  return new Response(out.text, { headers: { "Content-Type": `${out.contentType}; charset=utf-8`, "Content-Disposition": `attachment; filename="${out.filename}"` } });
});
