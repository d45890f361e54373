import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

/*
 * Layer rules: the folder a file sits in says what it may import (docs/DESIGN.md, "Layers").
 * Imports point down only:
 *
 *   app/, server.ts, lib/realtime      delivery: routes, pages, the socket
 *   lib/services                       use cases
 *   lib/controller                     reconcile, probe, collect (never a use case)
 *   lib/engines, lib/runtime,          adapters behind ports (never the controller
 *   lib/process, lib/mgmt                or a use case)
 *   lib/db, lib/auth, lib/env ...      infrastructure
 *   lib/core                           pure domain: no I/O, no other layer
 *
 * components/ import lib/core, lib/client, the engines' pure capability tables and their
 * descriptors (lib/engines/descriptors.ts: labels, formats, check names);
 * types from anywhere (`import type` carries no code into the browser bundle).
 */
const lib = (folders) => `^(@/lib/|(\\.\\./)+(lib/)?)(${folders})(/|$)`;
const IO_MODULES = ["fs", "fs/promises", "child_process", "net", "http", "https", "http2", "dgram", "tls", "worker_threads", "cluster"].flatMap((m) => [m, `node:${m}`]);
const ioMessage = "lib/core is pure: no I/O. Put the I/O in an adapter (lib/runtime, lib/engines, lib/db) and pass the result in.";
const layer = ({ files, regex, message, allowTypeImports = false, paths = [] }) => ({
  files,
  rules: {
    "@typescript-eslint/no-restricted-imports": ["error", { paths, patterns: [{ regex, message, allowTypeImports }] }],
  },
});
const layerRules = [
  layer({
    files: ["lib/core/**/*.ts", "lib/autoscale/decide.ts", "lib/autoscale/figures.ts", "lib/alerts/evaluate.ts"],
    regex: `(^@/lib/(?!core/))|^\\.\\./|^(dockerode|undici|socket\\.io|@prisma/.*|better-sqlite3|next(/.*)?)$`,
    message: "lib/core is pure domain: it imports only lib/core, zod and node:crypto-like helpers, never another layer or an I/O library.",
    paths: IO_MODULES.map((name) => ({ name, message: ioMessage })),
  }),
  layer({
    files: ["components/**/*.ts", "components/**/*.tsx"],
    regex: `^@/lib/(?!core/|client/|engines/capabilities$|engines/descriptors$|engines/[a-z]+/capabilities$)|^(node:.*|dockerode|undici|@prisma/.*|better-sqlite3|socket\\.io)$`,
    message: "components run in the browser: import lib/core, lib/client, an engine's capability table or the engine descriptors; server code only as `import type`.",
    allowTypeImports: true,
  }),
  layer({
    files: ["lib/controller/**/*.ts"],
    regex: lib("services"),
    message: "the controller sits below the use cases (lib/services): take what you need as a parameter or a port (see LiveViews in collector.ts).",
    allowTypeImports: true,
  }),
  layer({
    files: ["lib/engines/**/*.ts", "lib/runtime/**/*.ts", "lib/process/**/*.ts", "lib/mgmt/**/*.ts"],
    regex: lib("controller|services|realtime|auth|db"),
    message: "adapters (engines, runtimes, processes, the management client) know only lib/core and their own ports: never the controller, a use case or the database.",
  }),
  layer({
    files: ["lib/db/**/*.ts", "lib/auth/**/*.ts"],
    regex: lib("controller|services"),
    message: "infrastructure (the database, sign-in) sits below the controller and the use cases.",
  }),
];

export default tseslint.config(
  { ignores: ["node_modules/**", ".next/**", "data/**", "lib/db/generated/**", "next-env.d.ts", "bench/out/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "warn",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": ["error", { paths: [{ name: "child_process", message: "use node:child_process execFile/spawn with argv arrays" }] }],
    },
  },
  {
    files: ["replica/**/*.js", "scripts/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", Buffer: "readonly", __dirname: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", setImmediate: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["scripts/**/*.ts", "server.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...layerRules,
);
