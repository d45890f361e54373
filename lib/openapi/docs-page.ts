import fs from "node:fs";
import path from "node:path";

/**
 * The interactive API reference at /api/docs: Swagger UI (the swagger-ui-dist package,
 * served by the panel from node_modules, no CDN) reading /api/openapi.json. Its own
 * script and style are files too (no inline script), and it follows the system's
 * light or dark theme as the panel does (Swagger UI's html.dark-mode).
 */

const DOCS_SCRIPT = `(function () {
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  function theme() { document.documentElement.classList.toggle("dark-mode", dark.matches); }
  theme();
  dark.addEventListener("change", theme);
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    tryItOutEnabled: false,
    displayRequestDuration: true,
  });
})();
`;

const DOCS_STYLE = `body { margin: 0; font-family: ui-sans-serif, system-ui, sans-serif; background: #fafafa; color: #18181b; }
.sy-bar { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: baseline; padding: 0.75rem 1rem; border-bottom: 1px solid #e4e4e7; }
.sy-bar a { color: #1d4ed8; }
.sy-bar strong { font-size: 1rem; }
.swagger-ui .wrapper { padding: 0 1rem; max-width: 1200px; box-sizing: border-box; }
.swagger-ui { overflow-wrap: anywhere; }
html.dark-mode body { background: #09090b; color: #f4f4f5; }
html.dark-mode .sy-bar { border-color: #27272a; }
html.dark-mode .sy-bar a { color: #93c5fd; }
`;

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API · Switchyard</title>
<link rel="icon" href="/icon.svg">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="stylesheet" href="/api/docs/switchyard-docs.css">
</head>
<body>
<header class="sy-bar"><strong>Switchyard API</strong><a href="/">Back to the panel</a><a href="/api/openapi.json">openapi.json</a></header>
<main id="swagger-ui"></main>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/switchyard-docs.js"></script>
</body>
</html>
`;

/** The page a caller without a session gets (401): where to sign in. */
export const DOCS_SIGN_IN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · Switchyard API</title></head>
<body><p>The API reference is for signed-in users. <a href="/login">Sign in</a>, then open <a href="/api/docs">/api/docs</a> again.</p></body></html>
`;

/** The files /api/docs/{file} serves: two of swagger-ui-dist's, and the panel's own script and style. Nothing else. */
export const DOCS_FILES: Record<string, { type: string; from: "swagger-ui-dist" | "inline"; text?: string }> = {
  "swagger-ui.css": { type: "text/css; charset=utf-8", from: "swagger-ui-dist" },
  "swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", from: "swagger-ui-dist" },
  "switchyard-docs.js": { type: "text/javascript; charset=utf-8", from: "inline", text: DOCS_SCRIPT },
  "switchyard-docs.css": { type: "text/css; charset=utf-8", from: "inline", text: DOCS_STYLE },
};

/** swagger-ui-dist's folder: the panel runs from its own folder (scripts/start.ts), where npm installed it. */
function distDir(): string {
  return path.join(process.cwd(), "node_modules", "swagger-ui-dist");
}

/** A docs file's content, or null for a name not in DOCS_FILES. */
export function docsFile(name: string): { body: string | Buffer; type: string } | null {
  const f = Object.hasOwn(DOCS_FILES, name) ? DOCS_FILES[name] : null;
  if (!f) return null;
  return { body: f.from === "inline" ? f.text! : fs.readFileSync(path.join(distDir(), name)), type: f.type };
}
