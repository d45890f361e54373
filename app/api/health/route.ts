import pkg from "@/package.json";
import { plainRoute } from "@/lib/http";

/** Unauthenticated on purpose (container health checks): status and version only. Contract-checked like every route (tests). */
export const GET = plainRoute(() => Response.json({ status: "ok", version: pkg.version }));
