import { AppError } from "@/lib/core/errors";
import { CERTIFICATE_ID } from "@/lib/core/listeners";
import { routeListeners, type Route } from "@/lib/core/route-match";
import { DNS_LABEL, HOSTNAME, HOST_PATTERN } from "@/lib/core/rules";
import { listenersOf, type BalancerConfig, type BalancerListener } from "@/lib/engines/types";

/**
 * The listeners of a config as every renderer takes them (issue 13), checked once:
 * names are DNS labels, ports 1-65535 and unique, a certificate is an id with absolute
 * file paths of safe characters, its SNI names host patterns. Pure.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** an absolute path of safe characters, no dot segment: what a config may name */
const SAFE_FILE = /^\/(?:[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\/)*[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;

function refuse(what: string, value: unknown): never {
  throw new AppError("bad_request", `refusing to render ${what}: ${JSON.stringify(value)}`);
}

export function checkedListeners(config: BalancerConfig): BalancerListener[] {
  const listeners = listenersOf(config);
  const ports = new Set<number>();
  const names = new Set<string>();
  for (const l of listeners) {
    if (typeof l.name !== "string" || !DNS_LABEL.test(l.name) || names.has(l.name)) refuse("listener name", l.name);
    if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535 || ports.has(l.port)) refuse(`listener ${l.name} port`, l.port);
    if (typeof l.host !== "string" || !(IPV4.test(l.host) || HOSTNAME.test(l.host))) refuse(`listener ${l.name} host`, l.host);
    if (l.protocol !== "http" && l.protocol !== "https") refuse(`listener ${l.name} protocol`, l.protocol);
    if (l.redirectToHttpsPort !== undefined && (!Number.isInteger(l.redirectToHttpsPort) || l.redirectToHttpsPort < 1 || l.redirectToHttpsPort > 65535)) {
      refuse(`listener ${l.name} redirect port`, l.redirectToHttpsPort);
    }
    if (l.protocol === "https") {
      if (!l.certificates || l.certificates.length === 0) refuse(`https listener ${l.name} without a certificate`, l.certificates ?? null);
      for (const c of l.certificates) {
        if (!CERTIFICATE_ID.test(c.id)) refuse("certificate id", c.id);
        for (const f of [c.certFile, c.keyFile, c.pemFile]) if (typeof f !== "string" || !SAFE_FILE.test(f)) refuse("certificate file", f);
        for (const n of c.names) if (!HOST_PATTERN.test(n)) refuse("certificate name", n);
      }
    }
    ports.add(l.port);
    names.add(l.name);
  }
  return listeners;
}

/** Is the route served on this listener? (A route naming none is on the default listener.) */
export function servedOn(route: Pick<Route, "listeners">, listener: string): boolean {
  return routeListeners(route).includes(listener);
}
