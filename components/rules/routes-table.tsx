"use client";

import { useState } from "react";
import type { ServiceRoute } from "@/lib/core/rules";
import { Field, Input, Select } from "@/components/ui/field";
import { Button } from "@/components/ui/button";
import { Checkbox, Label, NumberInput } from "@/components/rules/controls";
import { useListeners } from "@/components/rules/use-listeners";
import { effectivePriority, exampleCurl, hiddenWithin, hostsOf, moveRoute, newRoute, servedOn, triedOrder, withListener, type ListenerChoice } from "@/components/rules/routes-model";

const INVALID = "ring-rose-400! dark:ring-rose-700!";
const MAX_ROUTES = 32;

type Props = {
  routes: ServiceRoute[];
  onChange: (routes: ServiceRoute[]) => void;
  /** dotted path -> message (routes.0.path, routes.1.hosts.0, routes) */
  errors: Map<string, string>;
  changed: Set<string>;
  disabled: boolean;
  /** the engine's reason when it cannot route by host / strip a prefix, else null */
  hostReason: string | null;
  stripReason: string | null;
  listen: { host: string; port: number } | null;
};

const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? "st" : n % 10 === 2 && n % 100 !== 12 ? "nd" : n % 10 === 3 && n % 100 !== 13 ? "rd" : "th"}`;

/** The hosts of one route as text: kept as typed (separators included) while it still means the same list. */
function HostsInput({ hosts, onHosts, name, invalid, disabled }: { hosts: string[]; onHosts: (h: string[]) => void; name: string; invalid: boolean; disabled: boolean }) {
  const [text, setText] = useState(hosts.join(" "));
  const shown = hostsOf(text).join(" ") === hosts.join(" ") ? text : hosts.join(" ");
  return (
    <Input
      name={name}
      value={shown}
      placeholder="any host"
      disabled={disabled}
      aria-invalid={invalid || undefined}
      className={invalid ? INVALID : ""}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => {
        setText(e.target.value);
        onHosts(hostsOf(e.target.value));
      }}
    />
  );
}

/** A route's listeners as checkboxes (none checked: the default listener); names it lists that no longer exist stay shown, to be unchecked. */
function ListenerChecks({ route, index, listeners, onRoute, changed, error, disabled }: { route: ServiceRoute; index: number; listeners: ListenerChoice[]; onRoute: (r: ServiceRoute) => void; changed: boolean; error: string | null; disabled: boolean }) {
  const named = (route.listeners ?? []).length > 0;
  const unknown = (route.listeners ?? []).filter((n) => !listeners.some((l) => l.name === n));
  const choices = [...listeners.map((l) => ({ name: l.name, note: `${l.protocol} :${l.port}` })), ...unknown.map((name) => ({ name, note: "no such listener" }))];
  return (
    <fieldset className="min-w-0 sm:col-span-2" data-testid={`service-route-listeners-${index}`}>
      <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">
        <Label text="Listeners" changed={changed} />
      </legend>
      <div className="flex flex-wrap gap-x-4 gap-y-1">
        {choices.map((l) => (
          <label key={l.name} className="inline-flex min-w-0 items-center gap-1.5 text-xs text-zinc-700 dark:text-zinc-300">
            <input
              type="checkbox"
              name={`routes.${index}.listeners.${l.name}`}
              aria-label={`Route ${index + 1} on listener ${l.name}`}
              className="size-4 shrink-0 accent-indigo-600"
              checked={named && servedOn(route, l.name)}
              disabled={disabled}
              onChange={(e) => onRoute(withListener(route, l.name, e.target.checked))}
            />
            <span className="break-all">
              {l.name} <span className="text-zinc-500 dark:text-zinc-400">({l.note})</span>
            </span>
          </label>
        ))}
      </div>
      {error ? (
        <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{error}</p>
      ) : (
        <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">{named ? "Served on the checked listeners only." : "None checked: served on the default listener."}</p>
      )}
    </fieldset>
  );
}

/**
 * A service's routes, each with its hosts, path (prefix or exact), strip, priority
 * and an example request it catches, listed in the order they are tried (the one
 * route order of lib/core); move up/down sets explicit priorities.
 */
export function RoutesTable({ routes, onChange, errors, changed, disabled, hostReason, stripReason, listen }: Props) {
  const listeners = useListeners();
  const order = triedOrder(routes);
  const hidden = hiddenWithin(routes);
  const set = (i: number, patch: Partial<ServiceRoute>) => onChange(routes.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const errorIn = (i: number, field: string) => [...errors.entries()].find(([k]) => k === `routes.${i}.${field}` || k.startsWith(`routes.${i}.${field}.`))?.[1] ?? null;
  return (
    <div className="space-y-3" data-testid="service-routes">
      {errors.get("routes") && <p className="text-xs text-rose-600 dark:text-rose-400">{errors.get("routes")}</p>}
      <ol className="space-y-3">
        {order.map((i, place) => {
          const r = routes[i];
          const p = effectivePriority(r);
          const hostErr = errorIn(i, "hosts");
          const pathErr = errorIn(i, "path");
          return (
            <li key={i} data-testid={`service-route-${i}`} className="min-w-0 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
              <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
                <p className="text-xs font-medium text-zinc-700 dark:text-zinc-300">
                  Route {i + 1} <span className="font-normal text-zinc-500">· tried {ordinal(place + 1)} of this service · priority {Number.isNaN(r.priority) ? "?" : p.value}
                  {p.auto ? " (its rule's length)" : ""}</span>
                </p>
                <div className="flex gap-1">
                  <Button type="button" size="sm" variant="ghost" disabled={disabled || place === 0} onClick={() => onChange(moveRoute(routes, i, -1))} aria-label={`Try route ${i + 1} earlier`}>
                    ↑ Earlier
                  </Button>
                  <Button type="button" size="sm" variant="ghost" disabled={disabled || place === order.length - 1} onClick={() => onChange(moveRoute(routes, i, 1))} aria-label={`Try route ${i + 1} later`}>
                    ↓ Later
                  </Button>
                  <Button type="button" size="sm" variant="ghost" disabled={disabled || routes.length === 1} onClick={() => onChange(routes.filter((_, k) => k !== i))} aria-label={`Remove route ${i + 1}`}>
                    Remove
                  </Button>
                </div>
              </div>
              <div className="grid gap-3 sm:grid-cols-2">
                <Field
                  label={<Label text="Hosts" changed={[...changed].some((c) => c.startsWith(`routes.${i}.hosts`))} />}
                  error={hostErr}
                  hint={hostReason && r.hosts.length === 0 ? `Not available: ${hostReason}` : "Names and *.wildcards, space separated; empty: any host."}
                >
                  <HostsInput name={`routes.${i}.hosts`} hosts={r.hosts} onHosts={(hosts) => set(i, { hosts })} invalid={hostErr !== null} disabled={disabled || (hostReason !== null && r.hosts.length === 0)} />
                </Field>
                <div className="grid grid-cols-[1fr_auto] gap-2">
                  <Field label={<Label text="Path" changed={changed.has(`routes.${i}.path`)} />} error={pathErr} hint={r.match === "exact" ? "this path only" : "and everything under it (whole segments)"}>
                    <Input
                      name={`routes.${i}.path`}
                      value={r.path}
                      disabled={disabled}
                      aria-invalid={pathErr !== null || undefined}
                      className={pathErr ? INVALID : ""}
                      autoComplete="off"
                      spellCheck={false}
                      onChange={(e) => set(i, { path: e.target.value })}
                    />
                  </Field>
                  <Field label={<Label text="Match" changed={changed.has(`routes.${i}.match`)} />}>
                    <Select name={`routes.${i}.match`} value={r.match} disabled={disabled} onChange={(e) => set(i, { match: e.target.value as ServiceRoute["match"] })}>
                      <option value="prefix">prefix</option>
                      <option value="exact">exact</option>
                    </Select>
                  </Field>
                </div>
                <Field label={<Label text="Priority (0: the rule's length)" changed={changed.has(`routes.${i}.priority`)} />} error={errorIn(i, "priority")} hint="higher is tried first; 1 makes a catch-all the last resort">
                  <NumberInput key={`${i}-${r.priority}`} name={`routes.${i}.priority`} value={r.priority} onValue={(n) => set(i, { priority: n })} invalid={errorIn(i, "priority") !== null} disabled={disabled} />
                </Field>
                <div className="sm:pt-6">
                  <Checkbox
                    name={`routes.${i}.stripPrefix`}
                    checked={r.stripPrefix}
                    onChange={(v) => set(i, { stripPrefix: v })}
                    disabled={disabled || (stripReason !== null && !r.stripPrefix)}
                    label={<Label text="Strip the path" changed={changed.has(`routes.${i}.stripPrefix`)} />}
                    hint={stripReason ? `Not available: ${stripReason}` : r.stripPrefix ? `the replica sees ${r.path === "/" ? "the path as sent" : `/x for ${r.path.replace(/\/$/, "")}/x`}` : "the replica sees the path as sent"}
                  />
                </div>
                {listeners && (listeners.length > 1 || (r.listeners ?? []).length > 0) && (
                  <ListenerChecks
                    route={r}
                    index={i}
                    listeners={listeners}
                    onRoute={(next) => onChange(routes.map((x, k) => (k === i ? next : x)))}
                    changed={changed.has(`routes.${i}.listeners`)}
                    error={errorIn(i, "listeners")}
                    disabled={disabled}
                  />
                )}
              </div>
              {hidden.has(i) && (
                <p className="mt-2 rounded-md bg-amber-50 px-2.5 py-1.5 text-xs text-amber-900 dark:bg-amber-950/40 dark:text-amber-200" data-testid={`service-route-hidden-${i}`}>
                  Never reached: route {hidden.get(i)!.join(" and route ")} {hidden.get(i)!.length > 1 ? "catch" : "catches"} all its requests first.
                </p>
              )}
              {!hostErr && !pathErr && !hidden.has(i) && (
                <p className="mt-2 rounded-md bg-zinc-50 px-2.5 py-1.5 text-xs text-zinc-600 dark:bg-zinc-800/50 dark:text-zinc-400" data-testid={`service-route-example-${i}`}>
                  Catches, for example: <code className="break-all">{exampleCurl(r, listen, listeners)}</code>
                </p>
              )}
            </li>
          );
        })}
      </ol>
      <Button type="button" variant="secondary" size="sm" disabled={disabled || routes.length >= MAX_ROUTES} onClick={() => onChange([...routes, newRoute()])}>
        Add a route
      </Button>
    </div>
  );
}
