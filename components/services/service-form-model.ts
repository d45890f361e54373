import { createServiceSchema, isClusterRuntime, MEMORY_THRESHOLD, updateServiceSchema, type ServiceAction } from "@/lib/core/service";
import type { Role } from "@/lib/core/roles";
import { emptyAllowList, isAllowedCommand, isAllowedImage, runChangeRefusals, type AllowList, type RunFields } from "@/lib/core/run-policy";
import type { ServiceView } from "@/lib/services/views";

/**
 * The service form's text fields and their conversion to the API's bodies,
 * checked with the same zod schemas as the server. Pure.
 */
export type ServiceFormValues = {
  name: string;
  /** "external": instances given by address, the panel starts none */
  runtime: "process" | "docker" | "external" | "swarm" | "kubernetes";
  /** external: one "host:port" per row */
  endpoints: string[];
  /** docker: start containers from an image, or adopt running ones that match labels */
  dockerSource: "image" | "discover";
  discoverBy: "label" | "compose";
  /** a label "key" or "key=value" */
  discoverLabel: string;
  discoverProject: string;
  discoverService: string;
  image: string;
  command: string;
  dataPort: string;
  adminPort: string;
  env: string;
  memoryLimitMb: string;
  /** where /health turns 503, in percent of the memory limit (10-99) */
  memoryThresholdPercent: string;
  cpuLimit: string;
  replicas: string;
  maxReplicas: string;
  /** docker: keep an image's root user (admins only) */
  allowRoot: boolean;
  /** the first route (rules.routes[0]), set at creation; later in the rules editor. Host: one name or *.wildcard (more in the rules editor); blank: any host */
  routeHost: string;
  routePathPrefix: string;
  routeStripPrefix: boolean;
  /** the health check (rules.healthCheck), set at creation; later in the rules editor. Any app: a path and the status it answers when healthy */
  healthPath: string;
  healthExpectStatus: string;
  /** the app's own actions per instance (buttons on each replica card) */
  actions: ActionRow[];
  /** the app speaks Switchyard's replica protocol; null: not chosen (the panel decides: the bundled app yes, a user's image or command no) */
  replicaProtocol: boolean | null;
};

/** One of the app's own actions as the form edits it; body: JSON object text, plain text, or blank. */
export type ActionRow = { name: string; method: ServiceAction["method"]; path: string; port: ServiceAction["port"]; body: string; confirm: boolean };

export const emptyActionRow = (): ActionRow => ({ name: "", method: "POST", path: "/", port: "data", body: "", confirm: false });

export function actionRowOf(a: ServiceAction): ActionRow {
  return { name: a.name, method: a.method, path: a.path, port: a.port, body: a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body), confirm: a.confirm ?? false };
}

/** A row as the API takes it: a body that reads as a JSON object is sent as JSON, other text as text. */
export function actionOf(r: ActionRow): Record<string, unknown> {
  let body: unknown = undefined;
  if (r.body.trim() !== "") {
    try {
      const json: unknown = JSON.parse(r.body);
      body = json && typeof json === "object" && !Array.isArray(json) ? json : r.body;
    } catch {
      body = r.body;
    }
  }
  return { name: r.name.trim(), method: r.method, path: r.path.trim(), port: r.port, ...(body === undefined ? {} : { body }), ...(r.confirm ? { confirm: true } : {}) };
}

export type FieldErrors = Partial<Record<keyof ServiceFormValues | "form" | "discover", string>>;

export const emptyForm = (runtime: "process" | "docker" = "process"): ServiceFormValues => ({
  name: "",
  runtime,
  endpoints: [""],
  dockerSource: "image",
  discoverBy: "compose",
  discoverLabel: "",
  discoverProject: "",
  discoverService: "",
  image: "",
  command: "",
  dataPort: "8000",
  adminPort: "9000",
  env: "",
  memoryLimitMb: "256",
  memoryThresholdPercent: String(MEMORY_THRESHOLD.default),
  cpuLimit: "",
  replicas: "2",
  maxReplicas: "",
  allowRoot: false,
  replicaProtocol: null,
  routeHost: "",
  routePathPrefix: "/",
  routeStripPrefix: false,
  healthPath: "/health",
  healthExpectStatus: "200",
  actions: [],
});

export function formFromService(s: ServiceView): ServiceFormValues {
  const d = s.discover;
  return {
    name: s.name,
    runtime: s.runtime === "docker" || s.runtime === "external" || s.runtime === "swarm" || s.runtime === "kubernetes" ? s.runtime : "process",
    endpoints: s.endpoints ?? [""],
    dockerSource: d ? "discover" : "image",
    discoverBy: d && "label" in d ? "label" : "compose",
    discoverLabel: d && "label" in d ? d.label : "",
    discoverProject: d && "project" in d ? d.project : "",
    discoverService: d && "project" in d ? (d.service ?? "") : "",
    image: s.image ?? "",
    command: s.command ? commandLine(s.command) : "",
    dataPort: String(s.dataPort),
    adminPort: String(s.adminPort),
    env: Object.entries(s.env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
    memoryLimitMb: String(s.memoryLimitMb),
    memoryThresholdPercent: String(s.memoryThresholdPercent),
    cpuLimit: s.cpuLimit === null ? "" : String(s.cpuLimit),
    replicas: String(s.replicas),
    maxReplicas: String(s.maxReplicas),
    allowRoot: s.allowRoot,
    replicaProtocol: s.replicaProtocol,
    routeHost: s.rules.routes[0].hosts.join(" "),
    routePathPrefix: s.rules.routes[0].path,
    routeStripPrefix: s.rules.routes[0].stripPrefix,
    healthPath: s.rules.healthCheck.path,
    healthExpectStatus: String(s.rules.healthCheck.expectStatus),
    actions: s.actions.map(actionRowOf),
  };
}

/** The route fields of the form as the first route (rules.routes[0]), or null when left at the default (any host, "/", no strip). */
export function routeOf(v: Pick<ServiceFormValues, "routeHost" | "routePathPrefix" | "routeStripPrefix">): { hosts: string[]; path: string; stripPrefix: boolean } | null {
  const host = v.routeHost.trim().toLowerCase();
  const hosts = host ? [host] : [];
  const path = v.routePathPrefix.trim() || "/";
  if (hosts.length === 0 && path === "/" && !v.routeStripPrefix) return null;
  return { hosts, path, stripPrefix: v.routeStripPrefix };
}

/** A rules error's field: rules.routes.0.hosts(.n) → routeHost, rules.routes.0.path → routePathPrefix (rules.route.* from older bodies too). */
export function routeFieldOf(path: readonly PropertyKey[]): keyof ServiceFormValues | undefined {
  if (path[0] !== "rules") return undefined;
  if (path[1] === "routes" && String(path[2]) === "0") return ({ hosts: "routeHost", path: "routePathPrefix", stripPrefix: "routeStripPrefix" } as Record<string, keyof ServiceFormValues>)[String(path[3])];
  if (path[1] === "healthCheck") return ({ path: "healthPath", expectStatus: "healthExpectStatus" } as Record<string, keyof ServiceFormValues>)[String(path[2])];
  if (path[1] === "route") return ({ host: "routeHost", pathPrefix: "routePathPrefix", stripPrefix: "routeStripPrefix" } as Record<string, keyof ServiceFormValues>)[String(path[2])];
  return undefined;
}

function quoteArg(a: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`;
}

/** argv as one line the form shows and splitCommand reads back. */
export function commandLine(argv: string[]): string {
  return argv.map(quoteArg).join(" ");
}

/** Split a command line into argv: whitespace separates, '…' and "…" group, nothing is ever run by a shell. */
export function splitCommand(line: string): { argv: string[] } | { error: string } {
  const argv: string[] = [];
  let cur = "";
  let quote: "'" | '"' | null = null;
  let has = false;
  for (const ch of line.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) argv.push(cur);
      cur = "";
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) return { error: `unclosed ${quote} quote` };
  if (has || cur) argv.push(cur);
  return { argv };
}

/** KEY=VALUE lines (blank lines and # comments ignored). */
export function parseEnvLines(text: string): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { error: `line ${i + 1}: write KEY=VALUE` };
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return { env };
}

const int = (s: string) => (s.trim() === "" ? undefined : Number(s));

type Parsed<T> = { ok: true; body: T } | { ok: false; errors: FieldErrors };

function issuesToErrors(issues: { path: PropertyKey[]; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const i of issues) {
    const routeField = routeFieldOf(i.path);
    const key = (routeField ?? String(i.path[0] ?? "form")) as keyof FieldErrors;
    const field = key in emptyForm() || key === "form" || key === "discover" ? key : "form";
    const text =
      field === "actions" && typeof i.path[1] === "number"
        ? `action ${i.path[1] + 1}${i.path[2] ? ` (${String(i.path[2])})` : ""}: ${i.message}`
        : field === "endpoints" && typeof i.path[1] === "number"
          ? `endpoint ${i.path[1] + 1}: ${i.message}`
        : field === "form" && i.path.length
          ? `${i.path.join(".")}: ${i.message}`
          : i.message;
    if (!errors[field]) errors[field] = text;
  }
  return errors;
}

function common(v: ServiceFormValues, errors: FieldErrors) {
  const envParsed = parseEnvLines(v.env);
  if ("error" in envParsed) errors.env = envParsed.error;
  let command: string[] | null = null;
  if (v.runtime === "process" && v.command.trim()) {
    const c = splitCommand(v.command);
    if ("error" in c) errors.command = c.error;
    else command = c.argv;
  }
  return { env: "env" in envParsed ? envParsed.env : {}, command };
}

/** The memory threshold field of a body: absent when blank (or equal to `unlessEqual`, the server's default). */
function thresholdOf(v: ServiceFormValues, unlessEqual?: number): { memoryThresholdPercent?: number } {
  const n = int(v.memoryThresholdPercent);
  return n === undefined || n === unlessEqual ? {} : { memoryThresholdPercent: n };
}

/** The health check fields as rules.healthCheck, or null when left at the default (/health, 200). */
export function healthCheckOf(v: Pick<ServiceFormValues, "healthPath" | "healthExpectStatus">): { path: string; expectStatus: number } | null {
  const path = v.healthPath.trim() || "/health";
  const expectStatus = int(v.healthExpectStatus) ?? 200;
  return path === "/health" && expectStatus === 200 ? null : { path, expectStatus };
}

/** The endpoint rows as the API takes them (blank rows left out). */
export const endpointsOf = (v: Pick<ServiceFormValues, "endpoints">) => v.endpoints.map((e) => e.trim()).filter(Boolean);

/** The discovery fields as the API's `discover`. */
export function discoverOf(v: Pick<ServiceFormValues, "discoverBy" | "discoverLabel" | "discoverProject" | "discoverService">): Record<string, string> {
  if (v.discoverBy === "label") return { label: v.discoverLabel.trim() };
  return { project: v.discoverProject.trim(), ...(v.discoverService.trim() ? { service: v.discoverService.trim() } : {}) };
}

/** Does this runtime run an image (a container, a Swarm task, a pod) rather than a command on this host? */
export const runsImage = (runtime: ServiceFormValues["runtime"]) => runtime === "docker" || isClusterRuntime(runtime);

/** Is this a service whose instances the panel does not start (external endpoints, discovered containers)? */
export const isListed = (v: Pick<ServiceFormValues, "runtime" | "dockerSource">) => v.runtime === "external" || (v.runtime === "docker" && v.dockerSource === "discover");

/** Create a service of instances the panel does not start: only what applies to them. */
function listedCreateBody(v: ServiceFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = { name: v.name.trim(), runtime: v.runtime };
  if (v.runtime === "external") body.endpoints = endpointsOf(v);
  else Object.assign(body, { discover: discoverOf(v), dataPort: int(v.dataPort) });
  return body;
}

/** The POST /api/services body, or the errors per field. */
export function toCreateBody(v: ServiceFormValues): Parsed<Record<string, unknown>> {
  const errors: FieldErrors = {};
  if (isListed(v)) {
    const body = listedCreateBody(v);
    const route = routeOf(v);
    const health = healthCheckOf(v);
    if (route || health) body.rules = { ...(route ? { routes: [route] } : {}), ...(health ? { healthCheck: health } : {}) };
    if (v.actions.length) body.actions = v.actions.map(actionOf);
    const parsed = createServiceSchema.safeParse(body);
    if (!parsed.success) Object.assign(errors, issuesToErrors(parsed.error.issues));
    return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body };
  }
  const { env, command } = common(v, errors);
  const body: Record<string, unknown> = {
    name: v.name.trim(),
    runtime: v.runtime,
    ...(runsImage(v.runtime) && v.image.trim() ? { image: v.image.trim() } : {}),
    ...(command ? { command } : {}),
    dataPort: int(v.dataPort),
    adminPort: int(v.adminPort),
    env,
    memoryLimitMb: int(v.memoryLimitMb),
    ...thresholdOf(v, MEMORY_THRESHOLD.default),
    cpuLimit: v.cpuLimit.trim() === "" ? null : Number(v.cpuLimit),
    replicas: int(v.replicas),
    ...(v.maxReplicas.trim() ? { maxReplicas: int(v.maxReplicas) } : {}),
    ...(v.runtime === "docker" && v.allowRoot ? { allowRoot: true } : {}),
    ...(v.replicaProtocol !== null ? { replicaProtocol: v.replicaProtocol } : {}),
  };
  // the route only when set: left at the default, the panel picks <name>.local if "/" on any host is taken
  const route = routeOf(v);
  const health = healthCheckOf(v);
  if (route || health) body.rules = { ...(route ? { routes: [route] } : {}), ...(health ? { healthCheck: health } : {}) };
  if (v.actions.length) body.actions = v.actions.map(actionOf);
  const parsed = createServiceSchema.safeParse(body);
  if (!parsed.success) Object.assign(errors, { ...issuesToErrors(parsed.error.issues), ...errors });
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, body };
}

/**
 * The PATCH /api/services/:id body with only what changed (what may change after
 * creation), or the errors per field.
 */
export function toUpdateBody(v: ServiceFormValues, before?: ServiceView): Parsed<Record<string, unknown>> {
  const errors: FieldErrors = {};
  if (isListed(v)) {
    const body: Record<string, unknown> = { ...(v.runtime === "external" ? { endpoints: endpointsOf(v) } : { discover: discoverOf(v) }), actions: v.actions.map(actionOf) };
    const parsed = updateServiceSchema.safeParse(body);
    if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues) };
    if (before) {
      const was: Record<string, unknown> = { endpoints: before.endpoints, discover: before.discover, actions: before.actions.map((a) => actionOf(actionRowOf(a))) };
      for (const k of Object.keys(body)) if (JSON.stringify(body[k]) === JSON.stringify(was[k])) delete body[k];
    }
    return { ok: true, body };
  }
  const { env, command } = common(v, errors);
  const body: Record<string, unknown> = {
    ...(runsImage(v.runtime) ? { image: v.image.trim() || null } : { command }),
    env,
    memoryLimitMb: int(v.memoryLimitMb),
    ...thresholdOf(v),
    cpuLimit: v.cpuLimit.trim() === "" ? null : Number(v.cpuLimit),
    ...(v.maxReplicas.trim() ? { maxReplicas: int(v.maxReplicas) } : {}),
    ...(v.runtime === "docker" ? { allowRoot: v.allowRoot } : {}),
    ...(v.replicaProtocol !== null ? { replicaProtocol: v.replicaProtocol } : {}),
    actions: v.actions.map(actionOf),
  };
  const parsed = updateServiceSchema.safeParse(body);
  if (!parsed.success) Object.assign(errors, { ...issuesToErrors(parsed.error.issues), ...errors });
  if (Object.keys(errors).length) return { ok: false, errors };
  if (before) {
    const was: Record<string, unknown> = {
      image: before.image,
      command: before.command,
      env: before.env,
      memoryLimitMb: before.memoryLimitMb,
      memoryThresholdPercent: before.memoryThresholdPercent,
      cpuLimit: before.cpuLimit,
      maxReplicas: before.maxReplicas,
      allowRoot: before.allowRoot,
      replicaProtocol: before.replicaProtocol,
      actions: before.actions.map((a) => actionOf(actionRowOf(a))),
    };
    for (const k of Object.keys(body)) if (JSON.stringify(body[k]) === JSON.stringify(was[k])) delete body[k];
  }
  return { ok: true, body };
}

/** What an operator may choose from, and why the rest is not offered (lib/core/run-policy.ts). */
export type RunPolicy = { role: Role; allow: AllowList | null; defaultImage: string };

/** The commands an operator may pick: the built-in app (""), the allow-list, and the service's current one. */
export function commandChoices(p: RunPolicy, current: string[] | null): { value: string; label: string }[] {
  const listed = (p.allow?.commands ?? []).map((c) => ({ value: commandLine(c), label: commandLine(c) }));
  const kept = current && !isAllowedCommand(p.allow ?? emptyAllowList(), current) ? [{ value: commandLine(current), label: `${commandLine(current)} (set by an admin)` }] : [];
  return [{ value: "", label: "built-in replica app" }, ...kept, ...listed];
}

/** The images an operator may pick: the built-in image (""), the allow-list, and the service's current one. */
export function imageChoices(p: RunPolicy, current: string | null): { value: string; label: string }[] {
  const listed = (p.allow?.images ?? []).filter((i) => i !== p.defaultImage).map((i) => ({ value: i, label: i }));
  const kept = current && !isAllowedImage(p.allow ?? emptyAllowList(), p.defaultImage, current) ? [{ value: current, label: `${current} (set by an admin)` }] : [];
  return [{ value: "", label: `built-in image (${p.defaultImage})` }, ...kept, ...listed];
}

/** The refusals the server would answer for this body, as field errors (empty when the role may send it). */
export function policyErrors(p: RunPolicy, body: Record<string, unknown>, before?: ServiceView): FieldErrors {
  const was: RunFields | null = before ? { image: before.image, command: before.command, env: before.env, allowRoot: before.allowRoot } : null;
  const change = body as Partial<RunFields>;
  const errors: FieldErrors = {};
  for (const r of runChangeRefusals(p.role, { allow: p.allow ?? emptyAllowList(), defaultImage: p.defaultImage }, change, was)) {
    const key = r.path === "allowRoot" ? "form" : r.path;
    errors[key] ??= r.message;
  }
  return errors;
}
