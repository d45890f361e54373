import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import type { Rules } from "@/lib/core/rules";
import { parseRules } from "@/lib/db/rows";
import { engineAdminState } from "@/lib/core/plan";
import { serverNameFor, type BalancerConfig, type BalancerListener, type BalancerServer, type BalancerService } from "@/lib/engines/types";
import { DEFAULT_LISTENER_NAME, redirectTarget, type Listener, type ListenerProtocol } from "@/lib/core/listeners";
import { certificateFiles } from "@/lib/tls/store";
import { clusterFronts, FRONT_SERVER_NAME } from "@/lib/runtime/cluster-front";

type ReplicaRow = { id: string; runtime?: string; dataAddr: string | null; faultAddr?: string | null; weight: number; adminState: string; inEngine: boolean; state?: string };
type ServiceRow = { id: string; name: string; rules: string; runtime?: string; instances?: ReplicaRow[] };

export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

/**
 * The engine's server for a replica: its data address, or, while a network fault is
 * active, its fault proxy's (`faultAddr`), so every later apply or reload keeps the fault.
 * Only the balancer's path uses it; the panel's direct path always takes dataAddr/adminAddr.
 */
export function toServer(r: ReplicaRow): BalancerServer | null {
  if (!r.dataAddr) return null;
  const { host, port } = splitAddr(r.faultAddr ?? r.dataAddr);
  const adminState = engineAdminState(r.state ?? "ready", r.adminState);
  // a container's name (not its fault proxy's loopback address): resolved when HAProxy can.
  // A Docker row's host is its container's name or 127.0.0.1 (host network); the renderer
  // gives the init-addr keywords only to a host that is not an IPv4 address.
  const resolveLater = r.runtime === "docker" && !r.faultAddr;
  return { replicaId: r.id, name: serverNameFor(r.id), host, port, weight: r.weight, adminState, ...(resolveLater ? { resolveLater } : {}) };
}

/**
 * A Swarm service as the panel's engine serves it: the routes are the panel's listener's (host,
 * path, strip prefix), and its one server is the service's own balancer on the Swarm (none until
 * the controller has learned where it answers), which carries out the rest of the rules across
 * the tasks. Stickiness, slow start and passive checks belong there, not on this one server (a
 * cookie of the panel's would name the same server for everyone; passive errors of the tasks
 * would take the whole service down).
 */
function frontService(s: ServiceRow, rules: Rules): BalancerService {
  const front = clusterFronts().get(s.id);
  const servers: BalancerServer[] = front ? [{ replicaId: FRONT_SERVER_NAME, name: FRONT_SERVER_NAME, host: front.host, port: front.port, weight: 1, adminState: "ready" }] : [];
  return { id: s.id, name: s.name, rules: { ...rules, sticky: { ...rules.sticky, mode: "none" }, slowStartMs: 0, passive: { ...rules.passive, maxFails: 0 } }, servers };
}

export function toBalancerService(s: ServiceRow, rulesOverride?: Rules): BalancerService {
  if (s.runtime === "swarm") return frontService(s, rulesOverride ?? parseRules(s.rules));
  const servers = (s.instances ?? []).filter((r) => r.inEngine).map(toServer).filter((x): x is BalancerServer => x !== null);
  servers.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { id: s.id, name: s.name, rules: rulesOverride ?? parseRules(s.rules), servers };
}

type ListenerRow = { id: string; name: string; port: number; protocol: string; certificateId: string | null; sniCertificateIds: string; redirectToHttps: boolean };

function idList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/** A listener row as the domain sees it; the default listener's port is BALANCER_PORT, whatever the row says. */
export function toListener(r: ListenerRow): Listener {
  return {
    id: r.id,
    name: r.name,
    port: r.name === DEFAULT_LISTENER_NAME ? env().BALANCER_PORT : r.port,
    protocol: (r.protocol === "https" ? "https" : "http") satisfies ListenerProtocol,
    certificateId: r.certificateId,
    sniCertificateIds: idList(r.sniCertificateIds),
    redirectToHttps: r.redirectToHttps,
  };
}

/** Every listener, the default one first (its row is made on first read), then by port. */
export async function storedListeners(): Promise<Listener[]> {
  const rows = await db().listener.findMany();
  if (!rows.some((r) => r.name === DEFAULT_LISTENER_NAME)) {
    rows.push(
      await db().listener.upsert({
        where: { name: DEFAULT_LISTENER_NAME },
        create: { name: DEFAULT_LISTENER_NAME, port: env().BALANCER_PORT, protocol: "http" },
        update: {},
      }),
    );
  }
  return rows.map(toListener).sort((a, b) => (a.name === DEFAULT_LISTENER_NAME ? -1 : b.name === DEFAULT_LISTENER_NAME ? 1 : a.port - b.port));
}

/** Listeners as a config holds them: certificates as files and names, a redirect as the https port. */
export async function balancerListeners(listeners: readonly Listener[]): Promise<BalancerListener[]> {
  const certs = await db().certificate.findMany({ select: { id: true, names: true } });
  const namesOf = (id: string) => idList(certs.find((c) => c.id === id)?.names ?? "[]");
  const httpsPort = redirectTarget(listeners);
  return listeners.map((l) => {
    const out: BalancerListener = { name: l.name, host: env().HOST, port: l.port, protocol: l.protocol };
    if (l.protocol === "http" && l.redirectToHttps && httpsPort !== null) out.redirectToHttpsPort = httpsPort;
    if (l.protocol === "https" && l.certificateId) {
      const ids = [l.certificateId, ...l.sniCertificateIds.filter((id) => id !== l.certificateId)];
      out.certificates = ids.map((id) => ({ id, names: namesOf(id), ...certificateFiles(env().dataDir, id) }));
    }
    return out;
  });
}

/**
 * The whole balancer configuration as the database says it should be now (`listeners`:
 * a proposed set of listeners instead of the stored ones, for an apply that changes them).
 */
export async function currentBalancerConfig(overrides: { serviceId: string; rules: Rules }[] = [], exclude: string[] = [], listeners?: readonly Listener[]): Promise<BalancerConfig> {
  const services = await db().service.findMany({ include: { instances: true }, orderBy: { name: "asc" } });
  return {
    listen: { host: env().HOST, port: env().BALANCER_PORT },
    listeners: await balancerListeners(listeners ?? (await storedListeners())),
    services: services
      .filter((s) => !exclude.includes(s.id))
      .map((s) => toBalancerService(s, overrides.find((o) => o.serviceId === s.id)?.rules)),
  };
}

export async function balancerServiceOf(serviceId: string): Promise<BalancerService | null> {
  const s = await db().service.findUnique({ where: { id: serviceId }, include: { instances: true } });
  return s ? toBalancerService(s) : null;
}
