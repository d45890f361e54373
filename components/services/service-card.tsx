"use client";

import Link from "next/link";
import { useState } from "react";
import { useServiceLive } from "@/lib/client/live";
import type { ServiceView } from "@/lib/services/views";
import { Badge } from "@/components/ui/badge";
import { sourceSummary } from "@/components/services/instance-source";
import { Button } from "@/components/ui/button";
import { Sparkline } from "@/components/charts/sparkline";
import { api, ApiError } from "@/lib/client/api";
import { InlineError } from "@/components/ui/inline-error";
import { describeRouteOf } from "@/lib/core/route-match";
import type { Rules } from "@/lib/core/rules";
import { CA_FILE, routeUrl } from "@/components/rules/routes-model";
import { useListeners } from "@/components/rules/use-listeners";

/**
 * Pure: where a service's (old-style, single) route answers through the default
 * listener: routeUrl of lib/core's route shape. With a host route the URL names that
 * host (a *.wildcard as an example name) and `via` is the listener to send it to.
 */
export function balancerUrl(route: Rules["route"], listen: { host: string; port: number }): { url: string; via: string | null } {
  const { url, via } = routeUrl({ hosts: route.host ? [route.host] : [], path: route.pathPrefix, match: "prefix", stripPrefix: route.stripPrefix, priority: route.priority }, listen);
  return { url, via };
}

/** A service on the list: live replica counts and requests/s, its route, and (operators) edit / delete. */
export function ServiceCard({
  service: initial,
  listen,
  canOperate,
  onEdit,
  onDeleted,
}: {
  service: ServiceView;
  listen: { host: string; port: number };
  canOperate: boolean;
  onEdit: () => void;
  onDeleted: () => void;
}) {
  const { service, history, last } = useServiceLive(initial.id, initial);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const ready = service.instances.filter((r) => r.state === "ready").length;
  // instances the panel did not start (issue 14): their count is what is listed
  const source = sourceSummary(service);
  const wanted = source ? service.instances.length : service.replicas;
  const inRotation = last ? last.replicas.filter((r) => r.inRotation).length : ready;
  const out = last ? last.replicas.filter((r) => !r.inRotation).length : 0;
  const routes = service.rules.routes;
  const listeners = useListeners();
  const rps = history.slice(-60).map((t) => t.rps);
  const running = service.instances.filter((r) => r.state !== "draining" && r.state !== "stopping").length;
  const url = routeUrl(routes[0], listen, listeners);

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/services/${service.id}`, { method: "DELETE" });
      onDeleted();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <article
      data-testid="service-card"
      data-service={service.name}
      className="flex flex-col gap-3 rounded-lg border border-zinc-200 bg-white p-4 shadow-sm transition hover:border-indigo-300 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-indigo-800"
    >
      <header className="flex items-start justify-between gap-2">
        <div className="min-w-0">
          <Link href={`/services/${service.id}`} className="text-base font-semibold hover:underline">
            {service.name}
          </Link>
          <div className="mt-0.5 flex flex-wrap gap-1.5">
            <Badge>{service.runtime}</Badge>
            {service.rules.sticky.mode !== "none" && <Badge tone="violet">sticky: {service.rules.sticky.mode}</Badge>}
            <Badge tone="blue">{service.rules.algorithm.replace("_", " ")}</Badge>
          </div>
        </div>
        <div className="text-right">
          <Sparkline values={rps} />
          <div className="text-xs text-zinc-500 tabular-nums">{(last?.rps ?? 0).toFixed(1)} req/s</div>
        </div>
      </header>

      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-zinc-500">replicas</dt>
        <dd data-testid="service-replicas">
          <span className={`font-semibold ${inRotation < wanted ? "text-amber-600 dark:text-amber-400" : "text-emerald-700 dark:text-emerald-400"}`}>{inRotation}</span>
          <span className="text-zinc-500"> in rotation of {wanted} {source ? "listed" : "desired"}</span>
          {!source && running !== service.replicas && <span className="text-xs text-zinc-500"> ({running} running)</span>}
          {out > 0 && <span className="block text-xs text-rose-600 dark:text-rose-400">{out} out of rotation (down, starting or leaving)</span>}
        </dd>
        <dt className="text-zinc-500">{routes.length > 1 ? "routes" : "route"}</dt>
        <dd className="min-w-0 font-mono text-xs leading-5" title="hosts and path the balancer routes to this service (= an exact path)" data-testid="service-routes-list">
          {routes.map((r, i) => (
            <span key={i} className="block truncate">
              {describeRouteOf(r)}
              {r.stripPrefix ? " (stripped)" : ""}
              {r.listeners && r.listeners.length > 0 ? <span className="font-sans text-zinc-500"> on {r.listeners.join(", ")}</span> : null}
            </span>
          ))}
        </dd>
        <dt className="text-zinc-500">balancer URL</dt>
        <dd className="min-w-0 font-mono text-xs leading-5" data-testid="service-balancer-url">
          <a href={url.url} className="break-all text-indigo-700 hover:underline dark:text-indigo-300" target="_blank" rel="noreferrer">
            {url.url}
          </a>
          {url.via && !url.https && <span className="block font-sans text-zinc-600 dark:text-zinc-400">by Host header; the listener is {url.via}</span>}
          {url.https && (
            <span className="block font-sans text-zinc-600 dark:text-zinc-400">
              https{url.via ? ` on ${url.via} (the name must resolve there)` : ""}: trust the panel&apos;s CA ({CA_FILE}, Balancer page)
            </span>
          )}
        </dd>
        <dt className="text-zinc-500">{source ? "instances" : service.runtime === "docker" ? "image" : "command"}</dt>
        <dd className="truncate font-mono text-xs leading-5" data-testid={source ? "service-source" : undefined}>
          {source ? source : service.runtime === "docker" ? service.image : service.redacted ? <span className="font-sans text-zinc-500">hidden from viewers</span> : service.command ? service.command.join(" ") : "built-in replica app"}
        </dd>
        <dt className="text-zinc-500">environment</dt>
        <dd className="truncate font-mono text-xs leading-5" title={service.redacted ? "names only: values are hidden from viewers" : undefined}>
          {Object.keys(service.env).length ? Object.keys(service.env).join(", ") : <span className="font-sans text-zinc-500">none</span>}
        </dd>
      </dl>

      <footer className="mt-auto flex flex-wrap items-center gap-2 border-t border-zinc-100 pt-3 dark:border-zinc-800">
        <Link href={`/services/${service.id}`} className="inline-flex items-center rounded-md bg-indigo-600 px-2.5 py-1 text-xs font-medium text-white shadow-sm hover:bg-indigo-500">
          Open dashboard →
        </Link>
        {canOperate && (
          <>
            <Button size="sm" variant="secondary" onClick={onEdit}>
              Edit
            </Button>
            <Button size="sm" variant="ghost" className="text-rose-600! dark:text-rose-400!" onClick={() => setConfirming(true)}>
              Delete
            </Button>
          </>
        )}
      </footer>
      {confirming && (
        <div role="alertdialog" aria-label={`delete ${service.name}`} className="space-y-2 rounded-md border border-rose-300 bg-rose-50 p-2.5 text-xs text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-200">
          <p>
            Delete <strong>{service.name}</strong>? Its route leaves the balancer and all {service.instances.length} replica{service.instances.length === 1 ? "" : "s"} are stopped. This cannot be undone.
          </p>
          <div className="flex gap-2">
            <Button size="sm" variant="danger" disabled={busy} onClick={() => void remove()}>
              {busy ? "Deleting…" : "Delete service"}
            </Button>
            <Button size="sm" variant="secondary" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
      <InlineError message={error} />
    </article>
  );
}
