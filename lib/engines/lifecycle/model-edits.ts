/**
 * Edits of the stored model's server list (pure). Every engine keeps the BalancerConfig
 * behind its live file (HAProxy and nginx in model.json, the builtin proxy in its JSON
 * config); the fast paths (add, remove, state, weight) change one service's servers in
 * it, so a later reload or restart from the file keeps every current server.
 */
import type { AdminState } from "@/lib/core/rules";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";

/** A change of one service's server list. */
export type ServerEdit = (servers: readonly BalancerServer[]) => BalancerServer[];

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `server` in the list, in place of any server of the same name. */
export const addServerEdit =
  (server: BalancerServer): ServerEdit =>
  (servers) => [...servers.filter((s) => s.name !== server.name), server];

/** The list without `serverName`. */
export const removeServerEdit =
  (serverName: string): ServerEdit =>
  (servers) => servers.filter((s) => s.name !== serverName);

/** `serverName` with a new weight, admin state or address. */
export const patchServerEdit =
  (serverName: string, patch: { weight?: number; adminState?: AdminState; host?: string; port?: number }): ServerEdit =>
  (servers) => servers.map((s) => (s.name === serverName ? { ...s, ...patch } : s));

/**
 * `model` with `service`'s servers edited; a service the model lacks is added from
 * `service` (its servers edited too). Services and servers in name order, as the panel
 * builds a configuration, so a later diff or a same-text check sees only real changes.
 */
export function withServers(model: BalancerConfig, service: BalancerService, edit: ServerEdit): BalancerConfig {
  const change = (servers: readonly BalancerServer[]) => edit(servers).sort(byName);
  const exists = model.services.some((s) => s.name === service.name);
  const services = exists
    ? model.services.map((s) => (s.name === service.name ? { ...s, servers: change(s.servers) } : s))
    : [...model.services, { ...service, servers: change(service.servers) }].sort(byName);
  return { ...model, services };
}

/** Does the model hold this server in this service? */
export function hasServer(model: BalancerConfig | null, serviceName: string, serverName: string): boolean {
  return model?.services.some((s) => s.name === serviceName && s.servers.some((srv) => srv.name === serverName)) ?? false;
}

/** "service/server" for every server, sorted: what a verify compares with what the engine reports. */
export function serverKeys(config: BalancerConfig): string[] {
  return config.services.flatMap((s) => s.servers.map((srv) => `${s.name}/${srv.name}`)).sort();
}

/**
 * The first difference between the servers `config` expects and those the engine
 * reports (`live`: "service/server" keys, any order), in words; null when they agree.
 */
export function serverMismatch(config: BalancerConfig, live: readonly string[]): string | null {
  const want = serverKeys(config);
  const have = [...live].sort();
  const same = want.length === have.length && want.every((k, i) => k === have[i]);
  return same ? null : `the engine reports servers [${have.join(", ")}], expected [${want.join(", ")}]`;
}

/**
 * The first difference, in words, between the servers `want` lists and the model an engine
 * serves (`served`: its stored model, run-time changes included): a server's address, port,
 * weight or admin state. null when every server `want` lists is served as listed. A missing
 * model (never applied) differs. Names missing on either side are serverMismatch's to report.
 */
export function servedServerDrift(want: BalancerConfig, served: BalancerConfig | null): string | null {
  if (served === null) return "the engine has no stored model";
  const have = new Map(served.services.flatMap((s) => s.servers.map((srv) => [`${s.name}/${srv.name}`, srv] as const)));
  for (const s of want.services) {
    for (const w of s.servers) {
      const h = have.get(`${s.name}/${w.name}`);
      if (!h) continue;
      if (h.host !== w.host || h.port !== w.port) return `${s.name}/${w.name} is served at ${h.host}:${h.port}, the panel has ${w.host}:${w.port}`;
      if (h.weight !== w.weight) return `${s.name}/${w.name} has weight ${h.weight} in the engine, ${w.weight} in the panel`;
      if (h.adminState !== w.adminState) return `${s.name}/${w.name} is ${h.adminState} in the engine, ${w.adminState} in the panel`;
    }
  }
  return null;
}
