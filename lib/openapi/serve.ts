import pkg from "@/package.json";
import { remember } from "@/lib/remember";
import { buildOpenApiDocument, type OpenApiDocument } from "@/lib/openapi/document";

/** The document, built once per process (it depends on the code only). */
export function openApiDocument(): OpenApiDocument {
  return remember("openapi-document", () => buildOpenApiDocument(pkg.version));
}
