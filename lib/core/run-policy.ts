import { z } from "zod";
import { hasRole, type Role } from "@/lib/core/roles";
import { commandSchema, imageSchema } from "@/lib/core/service";

/**
 * Who may set what a service runs (its image, command and environment). Pure: the
 * use cases enforce it and the service form shows it.
 *
 * - An admin may set anything (the names Switchyard sets stay reserved for everyone).
 * - An operator may run the built-in replica app or image, and the images and commands
 *   on the allow-list an admin keeps; may set any environment variable except those
 *   that change how a runtime finds or loads code, which keep what an admin set; and
 *   may not let a service's containers run as root.
 */

/** Variables that make a runtime load other code (preloads, module paths, startup files, shell hooks). */
const CODE_LOADING_NAMES = new Set([
  "NODE_OPTIONS",
  "NODE_PATH",
  "NODE_REPL_EXTERNAL_MODULE",
  "PATH",
  "BASH_ENV",
  "ENV",
  "SHELLOPTS",
  "BASHOPTS",
  "PS4",
  "PROMPT_COMMAND",
  "IFS",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "CLASSPATH",
  "GCONV_PATH",
  "GLIBC_TUNABLES",
  "PHPRC",
  "PHP_INI_SCAN_DIR",
  "GEM_HOME",
  "GEM_PATH",
  "TCLLIBPATH",
]);
const CODE_LOADING_PREFIXES = ["LD_", "DYLD_", "PYTHON", "PERL", "RUBY", "LUA_", "DENO_", "BUN_"];

/** Does this environment variable change how a runtime loads code (NODE_OPTIONS, LD_PRELOAD, PATH, PYTHONPATH …)? */
export function isCodeLoadingEnv(name: string): boolean {
  return CODE_LOADING_NAMES.has(name) || CODE_LOADING_PREFIXES.some((p) => name.startsWith(p));
}

/** What an admin lets operators run besides the built-in app: exact images, exact argv arrays. */
export const allowListSchema = z
  .object({
    images: z.array(imageSchema).max(100).default([]),
    commands: z.array(commandSchema).max(100).default([]),
  })
  .strict();
export type AllowList = z.infer<typeof allowListSchema>;
export const emptyAllowList = (): AllowList => ({ images: [], commands: [] });

/** What a service runs, as stored. */
export type RunFields = { image: string | null; command: string[] | null; env: Record<string, string>; allowRoot: boolean };

export type Refusal = { path: "image" | "command" | "env" | "allowRoot"; message: string };

const sameArgv = (a: string[] | null | undefined, b: string[] | null | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export const isAllowedImage = (allow: AllowList, defaultImage: string, image: string) => image === defaultImage || allow.images.includes(image);
export const isAllowedCommand = (allow: AllowList, command: string[]) => allow.commands.some((c) => sameArgv(c, command));

/** Code-loading names whose value differs between `before` and `after` (added, changed or removed). */
export function codeLoadingChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)].filter(isCodeLoadingEnv));
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

const ASK = "ask an admin";

/**
 * What `role` may not do in this change: [] when all of it is allowed. `change` holds
 * only the fields the request sets; `before` is the service as stored (null on create).
 */
export function runChangeRefusals(
  role: Role,
  policy: { allow: AllowList; defaultImage: string },
  change: Partial<RunFields>,
  before: RunFields | null,
): Refusal[] {
  if (hasRole(role, "admin")) return [];
  const { allow, defaultImage } = policy;
  const out: Refusal[] = [];
  if (change.image != null && change.image !== before?.image && !isAllowedImage(allow, defaultImage, change.image)) {
    const listed = [defaultImage, ...allow.images].join(", ");
    out.push({ path: "image", message: `image ${change.image} is not on the allow-list an admin keeps (${listed}); ${ASK}` });
  }
  if (change.command != null && !sameArgv(change.command, before?.command) && !isAllowedCommand(allow, change.command)) {
    const listed = allow.commands.length ? `allowed: ${allow.commands.map((c) => c.join(" ")).join("; ")}` : "no command is allowed, only the built-in replica app";
    out.push({ path: "command", message: `this command is not on the allow-list an admin keeps (${listed}); ${ASK}` });
  }
  if (change.env !== undefined) {
    for (const name of codeLoadingChanges(before?.env ?? {}, change.env)) {
      out.push({ path: "env", message: `${name} changes how the runtime loads code: only an admin may set, change or remove it` });
    }
  }
  if (change.allowRoot !== undefined && change.allowRoot !== (before?.allowRoot ?? false)) {
    out.push({ path: "allowRoot", message: `only an admin may let a service's containers run as root` });
  }
  return out;
}
