import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import type { Rules } from "@/lib/core/rules";
import { parseRules } from "@/lib/db/rows";
import { engineAdminState } from "@/lib/core/plan";
import { serverNameFor, type BalancerConfig, type BalancerServer, type BalancerService } from "@/lib/engines/types";

type ReplicaRow = { id: string; dataAddr: string | null; weight: number; adminState: string; inEngine: boolean; state?: string };
type ServiceRow = { id: string; name: string; rules: string; instances?: ReplicaRow[] };

export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
}

export function toServer(r: ReplicaRow): BalancerServer | null {
  if (!r.dataAddr) return null;
  const { host, port } = splitAddr(r.dataAddr);
  const adminState = engineAdminState(r.state ?? "ready", r.adminState);
  return { replicaId: r.id, name: serverNameFor(r.id), host, port, weight: r.weight, adminState };
}

export function toBalancerService(s: ServiceRow, rulesOverride?: Rules): BalancerService {
  const servers = (s.instances ?? []).filter((r) => r.inEngine).map(toServer).filter((x): x is BalancerServer => x !== null);
  servers.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { id: s.id, name: s.name, rules: rulesOverride ?? parseRules(s.rules), servers };
}

/** The whole balancer configuration as the database says it should be now. */
export async function currentBalancerConfig(overrides: { serviceId: string; rules: Rules }[] = [], exclude: string[] = []): Promise<BalancerConfig> {
  const services = await db().service.findMany({ include: { instances: true }, orderBy: { name: "asc" } });
  return {
    listen: { host: env().HOST, port: env().BALANCER_PORT },
    services: services
      .filter((s) => !exclude.includes(s.id))
      .map((s) => toBalancerService(s, overrides.find((o) => o.serviceId === s.id)?.rules)),
  };
}

export async function balancerServiceOf(serviceId: string): Promise<BalancerService | null> {
  const s = await db().service.findUnique({ where: { id: serviceId }, include: { instances: true } });
  return s ? toBalancerService(s) : null;
}
