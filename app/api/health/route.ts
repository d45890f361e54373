import pkg from "@/package.json";

/** Unauthenticated on purpose (container health checks): status and version only. */
export function GET(): Response {
  return Response.json({ status: "ok", version: pkg.version });
}
