import { z } from "zod";
import { DNS_LABEL, HOSTNAME } from "./rules";

/**
 * The balancer's listeners (issue 13): the ports it serves on, each plain HTTP or
 * HTTPS. Pure: the API's input schemas and the checks that need no I/O. The first
 * listener, "default", is BALANCER_PORT; it cannot be deleted or renamed.
 */

export const DEFAULT_LISTENER_NAME = "default";
export const listenerProtocols = ["http", "https"] as const;
export type ListenerProtocol = (typeof listenerProtocols)[number];

/** Ports below 1024 need root and belong to system services; the panel never binds them. */
export const MIN_LISTENER_PORT = 1024;

/** A certificate's id as the store makes it (lib/tls/store): 16 lower-case hex digits, safe in a file name. */
export const CERTIFICATE_ID = /^[a-f0-9]{16}$/;
export const certificateIdSchema = z.string().regex(CERTIFICATE_ID, "a certificate id (16 hex digits)");

const name = z.string().max(63).regex(DNS_LABEL, "a listener name: a lower-case letter, then letters, digits or '-' (at most 63)");
const port = z.number().int().min(MIN_LISTENER_PORT, `a port from ${MIN_LISTENER_PORT}`).max(65535);

export const createListenerSchema = z
  .object({
    name,
    port,
    protocol: z.enum(listenerProtocols).default("http"),
    /** https: the certificate served when no other matches the client's SNI name */
    certificateId: certificateIdSchema.nullable().optional(),
    /** https: more certificates, picked by the SNI name the client asks for */
    sniCertificateIds: z.array(certificateIdSchema).max(32).optional(),
    /** http: answer every request with a 308 to the https listener on this port */
    redirectToHttps: z.boolean().optional(),
  })
  .strict();

export const updateListenerSchema = createListenerSchema.partial().strict();

export type ListenerInput = z.infer<typeof createListenerSchema>;
export type ListenerPatch = z.infer<typeof updateListenerSchema>;

/** A listener as stored and shown (no secret in it: certificates are named by id). */
export type Listener = {
  id: string;
  name: string;
  port: number;
  protocol: ListenerProtocol;
  certificateId: string | null;
  sniCertificateIds: string[];
  redirectToHttps: boolean;
};

/**
 * What is wrong with a listener among the others (their final state), in words, or
 * null. `panelPort` is the panel's own port. Port availability on the machine is the
 * use case's (it tries to bind).
 */
export function listenerProblem(l: Omit<Listener, "id">, others: readonly Omit<Listener, "id">[], panelPort: number): string | null {
  if (l.port === panelPort) return `port ${l.port} is the panel's own port`;
  const samePort = others.find((o) => o.port === l.port);
  if (samePort) return `port ${l.port} is taken by the listener ${samePort.name}`;
  const sameName = others.find((o) => o.name === l.name);
  if (sameName) return `a listener named ${l.name} exists already`;
  if (l.protocol === "https") {
    if (!l.certificateId) return "an https listener needs a certificate";
    if (l.redirectToHttps) return "an https listener cannot redirect to https (it is https)";
  } else {
    if (l.certificateId || l.sniCertificateIds.length > 0) return "an http listener has no certificate (choose https)";
    if (l.redirectToHttps && !others.some((o) => o.protocol === "https")) return "redirect to https needs an https listener to redirect to";
  }
  return null;
}

/** The https listener an http listener redirects to: the first https one by port. */
export function redirectTarget(listeners: readonly Pick<Listener, "protocol" | "port">[]): number | null {
  const https = listeners.filter((l) => l.protocol === "https").map((l) => l.port).sort((a, b) => a - b);
  return https[0] ?? null;
}

/** Names a generated certificate may carry: host names or one leading wildcard label, as routes take them. */
export const certificateHostSchema = z
  .string()
  .max(253)
  .refine((h) => HOSTNAME.test(h.startsWith("*.") ? h.slice(2) : h), "a host name such as api.local or *.local");

export const createCertificateSchema = z.union([
  z.object({ pem: z.string().min(1).max(64 * 1024), key: z.string().min(1).max(16 * 1024) }).strict(),
  z.object({ generate: z.object({ hosts: z.array(certificateHostSchema).min(1).max(16) }).strict() }).strict(),
]);
export type CertificateInput = z.infer<typeof createCertificateSchema>;

/** A certificate as any signed-in user may see it: never the key. */
export type CertificateView = {
  id: string;
  subject: string;
  names: string[];
  issuer: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  /** fewer than EXPIRY_WARNING_DAYS left, or expired */
  expiresSoon: boolean;
  expired: boolean;
  /** made by the panel's own CA */
  generated: boolean;
  /** names of the listeners that serve it */
  usedBy: string[];
  createdAt: string;
};

export const EXPIRY_WARNING_DAYS = 30;

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

export const listenerSchema = z.object({
  id: z.string(),
  name: z.string(),
  port: z.number().int(),
  protocol: z.enum(listenerProtocols),
  certificateId: z.string().nullable(),
  sniCertificateIds: z.array(z.string()),
  redirectToHttps: z.boolean(),
});

export const certificateViewSchema = z.object({
  id: z.string(),
  subject: z.string(),
  names: z.array(z.string()),
  issuer: z.string(),
  fingerprint: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  daysLeft: z.number(),
  expiresSoon: z.boolean(),
  expired: z.boolean(),
  generated: z.boolean(),
  usedBy: z.array(z.string()),
  createdAt: z.string(),
});

/** A listener in a URL (PATCH/DELETE /api/listeners/:id): its id or its name. */
export const listenerIdParamSchema = z.string().min(1).max(64).regex(/^[a-z0-9-]+$/, "a listener id or name");
