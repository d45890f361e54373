import { z } from "zod";
// Relative imports on purpose (lib/core/route-*.ts and routes.ts too): this file is loaded by the proxy process
// (proxy-main.ts under tsx) as well as by the panel, and must not depend on the
// "@/" alias being resolvable there.
import { routeKeys } from "../../core/routes";
import { DNS_LABEL, HOSTNAME, HOST_PATTERN, adminStates, replicaWeightSchema, rulesSchema } from "../../core/rules";
import type { BalancerConfig } from "../types";

/**
 * zod schema of a BalancerConfig and of the builtin engine's config document
 * (what render() writes and the proxy loads). The proxy re-validates every
 * document it loads with these, so a bad file is refused with a message and
 * the running config stays.
 */

export const BUILTIN_FORMAT = 1;
export const BUILTIN_ENGINE_TAG = "switchyard-builtin";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Replica and service ids: opaque, but safe as a cookie value and in logs. */
export const OPAQUE_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
export const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const hostSchema = z
  .string()
  .max(253)
  .refine(isHost, "an IPv4 address such as 127.0.0.1 or a host name");

/** An IPv4 literal, or a host name whose last label is not all digits (so 127.0.0.256 is refused, not taken for a name). */
function isHost(h: string): boolean {
  if (IPV4.test(h)) return true;
  return HOSTNAME.test(h) && !/(^|\.)\d+$/.test(h);
}

export const portSchema = z.number().int().min(1).max(65_535);

export const listenSchema = z.strictObject({ host: hostSchema, port: portSchema });

/** An absolute file path of safe characters, no dot segment (certificate files). */
const FILE_PATH = /^\/(?:[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\/)*[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;

export const balancerCertificateSchema = z.strictObject({
  id: z.string().regex(/^[a-f0-9]{16}$/),
  names: z.array(z.string().max(255).regex(HOST_PATTERN)).max(100),
  certFile: z.string().max(1024).regex(FILE_PATH),
  keyFile: z.string().max(1024).regex(FILE_PATH),
  pemFile: z.string().max(1024).regex(FILE_PATH),
});

/** A listener (issue 13): http or https with certificates, or an http one that redirects to https. */
export const balancerListenerSchema = z
  .strictObject({
    name: z.string().regex(DNS_LABEL),
    host: hostSchema,
    port: portSchema,
    protocol: z.enum(["http", "https"]),
    redirectToHttpsPort: portSchema.optional(),
    certificates: z.array(balancerCertificateSchema).max(32).optional(),
  })
  .refine((l) => l.protocol === "http" || (l.certificates?.length ?? 0) > 0, { message: "an https listener needs a certificate" });

export const balancerServerSchema = z.strictObject({
  replicaId: z.string().regex(OPAQUE_ID, "a replica id: letters, digits, '.', '_', '~', '-' (at most 128)"),
  name: z.string().regex(SERVER_NAME, "a server name: lower-case letters, digits and '-' (at most 63)"),
  host: hostSchema,
  port: portSchema,
  weight: replicaWeightSchema,
  adminState: z.enum(adminStates),
});

export const balancerServiceSchema = z
  .strictObject({
    id: z.string().regex(OPAQUE_ID, "a service id: letters, digits, '.', '_', '~', '-' (at most 128)"),
    name: z.string().regex(DNS_LABEL, "a service name: a DNS label such as web-api"),
    rules: rulesSchema,
    servers: z.array(balancerServerSchema).max(1000),
  })
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    const ids = new Set<string>();
    s.servers.forEach((srv, i) => {
      if (names.has(srv.name)) ctx.addIssue({ code: "custom", path: ["servers", i, "name"], message: `server name ${srv.name} is used twice in service ${s.name}` });
      if (ids.has(srv.replicaId)) ctx.addIssue({ code: "custom", path: ["servers", i, "replicaId"], message: `replica ${srv.replicaId} is listed twice in service ${s.name}` });
      names.add(srv.name);
      ids.add(srv.replicaId);
    });
  });

export const balancerConfigSchema = z
  .strictObject({
    listen: listenSchema,
    listeners: z.array(balancerListenerSchema).max(32).optional(),
    services: z.array(balancerServiceSchema).max(500),
  })
  .superRefine((c, ctx) => {
    const ports = new Set<number>();
    const listenerNames = new Set<string>();
    c.listeners?.forEach((l, i) => {
      if (ports.has(l.port)) ctx.addIssue({ code: "custom", path: ["listeners", i, "port"], message: `two listeners on port ${l.port}` });
      if (listenerNames.has(l.name)) ctx.addIssue({ code: "custom", path: ["listeners", i, "name"], message: `two listeners named ${l.name}` });
      ports.add(l.port);
      listenerNames.add(l.name);
    });
    const names = new Set<string>();
    const routes = new Map<string, string>();
    c.services.forEach((s, i) => {
      if (names.has(s.name)) ctx.addIssue({ code: "custom", path: ["services", i, "name"], message: `service name ${s.name} is used twice` });
      names.add(s.name);
      for (const key of new Set(s.rules.routes.flatMap(routeKeys))) {
        const other = routes.get(key);
        if (other !== undefined) {
          ctx.addIssue({ code: "custom", path: ["services", i, "rules", "routes"], message: `services ${other} and ${s.name} have the same route (${key})` });
        }
        routes.set(key, s.name);
      }
    });
  });

/** The envelope of the document render() produces: an engine tag and a format number around a BalancerConfig. */
export const builtinDocumentSchema = z.strictObject({
  engine: z.literal(BUILTIN_ENGINE_TAG),
  format: z.literal(BUILTIN_FORMAT),
  listen: z.unknown(),
  listeners: z.unknown().optional(),
  services: z.unknown(),
});

export type ParseResult = { ok: true; config: BalancerConfig } | { ok: false; error: string };

/** Config document text -> validated BalancerConfig, or a readable error. Never throws. */
export function parseBuiltinConfig(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const doc = builtinDocumentSchema.safeParse(raw);
  if (!doc.success) return { ok: false, error: z.prettifyError(doc.error) };
  const { listen, listeners, services } = doc.data;
  const config = balancerConfigSchema.safeParse({ listen, listeners, services });
  if (!config.success) return { ok: false, error: z.prettifyError(config.error) };
  return { ok: true, config: config.data };
}
