"use client";

import { algorithms, retryConditions, type RetryCondition } from "@/lib/core/rules";
import type { Capability, EngineCapabilities, EngineKind } from "@/lib/engines/types";
import { NGINX_NOTES } from "@/lib/engines/nginx/capabilities";
import { engineDescriptors } from "@/lib/engines/descriptors";
import { Field, Input } from "@/components/ui/field";
import { Checkbox, Label, NumberInput, RadioOption, Section } from "@/components/rules/controls";
import { algorithmLabels, humanMs, humanSeconds, retryConditionLabels } from "@/components/rules/labels";
import type { Draft } from "@/components/rules/form-state";
import { RoutesTable } from "@/components/rules/routes-table";
import { reachHostOf } from "@/components/rules/routes-model";
import { TryUrl } from "@/components/rules/try-url";

const INVALID = "ring-rose-400! dark:ring-rose-700!";

type Props = {
  draft: Draft;
  update: (path: readonly string[], value: unknown) => void;
  /** dotted path -> message to show under that field */
  errors: Map<string, string>;
  /** dotted paths that differ from the applied rules */
  changed: Set<string>;
  disabled: boolean;
  engine: { kind: EngineKind; capabilities: EngineCapabilities; listen: { host: string; port: number } } | null;
};

/** Every option of the rules model, one section per concern. */
export function RulesFields({ draft, update, errors, changed, disabled, engine }: Props) {
  const err = (path: string) => errors.get(path) ?? null;
  const lbl = (path: string, text: string) => <Label text={text} changed={changed.has(path)} />;
  /** The engine's reason when it cannot do `cap`, else null. */
  const reason = (cap: Capability): string | null => {
    const v = engine?.capabilities[cap];
    return v === undefined || v === true ? null : v;
  };
  /**
   * An option the engine cannot do is disabled, unless the rules use it already:
   * then it stays editable so the operator can turn it off (its field shows why).
   */
  const gated = (cap: Capability, inUse: boolean) => disabled || (reason(cap) !== null && !inUse);
  const num = (path: string, text: string, opts: { suffix?: string; hint?: string; cap?: Capability; inUse?: boolean } = {}) => {
    const keys = path.split(".");
    const value = keys.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], draft) as number;
    const capReason = opts.cap ? reason(opts.cap) : null;
    return (
      <Field label={lbl(path, text)} error={err(path)} hint={capReason && !(opts.inUse ?? false) ? `Not available on ${engine?.kind}: ${capReason}` : opts.hint}>
        <NumberInput
          name={path}
          value={value}
          onValue={(n) => update(keys, n)}
          suffix={opts.suffix}
          invalid={errors.has(path)}
          disabled={opts.cap ? gated(opts.cap, opts.inUse ?? false) : disabled}
        />
      </Field>
    );
  };

  const hc = draft.healthCheck;
  const listen = engine?.listen;

  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Section title="Balancing algorithm" description="How the balancer picks a replica for each new request (sticky clients excepted)." testId="rules-section-algorithm">
        <div role="radiogroup" aria-label="algorithm" className="space-y-1.5">
          {algorithms.map((a) => {
            const r = reason(`algorithm.${a}`);
            return (
              <RadioOption
                key={a}
                name="algorithm"
                value={a}
                checked={draft.algorithm === a}
                onChange={(v) => update(["algorithm"], v)}
                disabled={gated(`algorithm.${a}`, draft.algorithm === a)}
                title={
                  <>
                    {algorithmLabels[a].name} <code className="text-xs font-normal text-zinc-600 dark:text-zinc-400">{a}</code>
                    {changed.has("algorithm") && draft.algorithm === a && <Label text="" changed />}
                  </>
                }
                explain={algorithmLabels[a].explain}
                reason={r}
              />
            );
          })}
        </div>
        {err("algorithm") && <p className="text-xs text-rose-600 dark:text-rose-400">{err("algorithm")}</p>}
      </Section>

      <Section title="Sticky sessions" description="Keep a client on the replica that served it first, for as long as that replica is up." testId="rules-section-sticky">
        <div role="radiogroup" aria-label="stickiness" className="space-y-1.5">
          <RadioOption name="sticky.mode" value="none" checked={draft.sticky.mode === "none"} onChange={(v) => update(["sticky", "mode"], v)} disabled={disabled} title="None" explain="Every request is balanced on its own." />
          <RadioOption
            name="sticky.mode"
            value="cookie"
            checked={draft.sticky.mode === "cookie"}
            onChange={(v) => update(["sticky", "mode"], v)}
            disabled={gated("sticky.cookie", draft.sticky.mode === "cookie")}
            title="Cookie"
            explain="The balancer sets a cookie holding an opaque replica id (never an address) and sends the client back there."
            reason={reason("sticky.cookie")}
          />
          <RadioOption
            name="sticky.mode"
            value="source"
            checked={draft.sticky.mode === "source"}
            onChange={(v) => update(["sticky", "mode"], v)}
            disabled={gated("sticky.source", draft.sticky.mode === "source")}
            title="Source IP"
            explain="Clients are kept by their address: works without cookies, but everyone behind one NAT lands together."
            reason={reason("sticky.source")}
          />
        </div>
        {err("sticky.mode") && <p className="text-xs text-rose-600 dark:text-rose-400">{err("sticky.mode")}</p>}
        <div className="grid grid-cols-2 gap-3">
          <Field label={lbl("sticky.cookieName", "Cookie name")} error={err("sticky.cookieName")} hint={draft.sticky.mode === "cookie" ? "A letter, then letters, digits, '-' or '_'." : "Used in cookie mode."}>
            <Input
              name="sticky.cookieName"
              value={draft.sticky.cookieName}
              disabled={disabled || draft.sticky.mode !== "cookie"}
              aria-invalid={errors.has("sticky.cookieName") || undefined}
              className={errors.has("sticky.cookieName") ? INVALID : ""}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => update(["sticky", "cookieName"], e.target.value)}
            />
          </Field>
          <Field label={lbl("sticky.maxAgeS", "Cookie max age")} error={err("sticky.maxAgeS")} hint={draft.sticky.mode !== "cookie" ? "Used in cookie mode." : draft.sticky.maxAgeS === 0 ? `0 = ${humanSeconds(0)}` : `${humanSeconds(draft.sticky.maxAgeS)}; 0 = a session cookie`}>
            <NumberInput name="sticky.maxAgeS" value={draft.sticky.maxAgeS} onValue={(n) => update(["sticky", "maxAgeS"], n)} suffix="s" invalid={errors.has("sticky.maxAgeS")} disabled={disabled || draft.sticky.mode !== "cookie"} />
          </Field>
        </div>
      </Section>

      <Section
        title="Active health check"
        description={
          <>
            The balancer asks each replica for <code>GET {errors.has("healthCheck.path") ? "…" : hc.path}</code> every {humanMs(hc.intervalMs) || "…"}: {Number.isFinite(hc.fall) ? hc.fall : "…"} failures in a row take it out of rotation (about{" "}
            {humanMs(hc.intervalMs * hc.fall) || "…"}), {Number.isFinite(hc.rise) ? hc.rise : "…"} good answers bring it back.
          </>
        }
        testId="rules-section-health"
      >
        {engine && engineDescriptors[engine.kind].panelProbes && (
          <p className="rounded-md bg-amber-50 px-2.5 py-1.5 text-xs text-amber-800 dark:bg-amber-950/40 dark:text-amber-300">{engineDescriptors[engine.kind].notes["healthCheck.active"]}</p>
        )}
        {reason("healthCheck.active") && <p className="text-xs text-amber-700 dark:text-amber-400">{reason("healthCheck.active")}</p>}
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
          <div className="col-span-2 sm:col-span-3">
            <Field label={lbl("healthCheck.path", "Path")} error={err("healthCheck.path")} hint="Such as /health: letters, digits, '-', '_', '~', '.' between '/'.">
              <Input
                name="healthCheck.path"
                value={hc.path}
                disabled={disabled}
                aria-invalid={errors.has("healthCheck.path") || undefined}
              className={errors.has("healthCheck.path") ? INVALID : ""}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => update(["healthCheck", "path"], e.target.value)}
              />
            </Field>
          </div>
          {num("healthCheck.intervalMs", "Interval", { suffix: "ms", hint: humanMs(hc.intervalMs) })}
          {num("healthCheck.timeoutMs", "Timeout", { suffix: "ms", hint: humanMs(hc.timeoutMs) })}
          {num("healthCheck.expectStatus", "Expected status", { hint: "HTTP status of a healthy answer" })}
          {num("healthCheck.fall", "Fall", { hint: "failures to go down" })}
          {num("healthCheck.rise", "Rise", { hint: "successes to come back" })}
        </div>
      </Section>

      <Section title="Passive health check" description="Watch real traffic too: a replica that fails this many requests is skipped for a while, before the active check notices." testId="rules-section-passive">
        <div className="grid grid-cols-2 gap-3">
          {num("passive.maxFails", "Max fails", { hint: "0 turns it off", cap: "passive", inUse: draft.passive.maxFails > 0 })}
          {num("passive.failTimeoutMs", "Fail timeout", { suffix: "ms", hint: `skipped for ${humanMs(draft.passive.failTimeoutMs)}`, cap: "passive", inUse: draft.passive.maxFails > 0 })}
        </div>
      </Section>

      <Section title="Retries" description="When a request fails before the replica answered, try again, so clients do not see the failure." testId="rules-section-retries">
        <div className="grid grid-cols-2 gap-3">
          {num("retries.count", "Count", { hint: "0 turns retries off", cap: "retries", inUse: draft.retries.count > 0 })}
          <div className="pt-6">
            <Checkbox
              name="retries.redispatch"
              checked={draft.retries.redispatch}
              onChange={(v) => update(["retries", "redispatch"], v)}
              disabled={gated("retries.redispatch", draft.retries.redispatch && draft.retries.count > 0) || draft.retries.count === 0}
              label={lbl("retries.redispatch", "Retry on another replica")}
              hint={reason("retries.redispatch") ? `Not available: ${reason("retries.redispatch")}` : "redispatch instead of the same one"}
            />
            {err("retries.redispatch") && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{err("retries.redispatch")}</p>}
          </div>
        </div>
        <div>
          <p className="mb-1.5 text-xs font-medium text-zinc-700 dark:text-zinc-300">
            <Label text="Retry when" changed={changed.has("retries.on")} />
          </p>
          <div className="grid grid-cols-2 gap-1.5 sm:grid-cols-3">
            {retryConditions.map((c) => (
              <Checkbox
                key={c}
                name={`retries.on.${c}`}
                checked={draft.retries.on.includes(c)}
                disabled={disabled || draft.retries.count === 0}
                onChange={(v) => update(["retries", "on"], toggle(draft.retries.on, c, v))}
                label={retryConditionLabels[c]}
              />
            ))}
          </div>
          {err("retries.on") && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{err("retries.on")}</p>}
          {engine?.kind === "nginx" && <p className="mt-1.5 text-xs text-zinc-500">{NGINX_NOTES.retries}</p>}
        </div>
      </Section>

      <Section title="Timeouts and replica lifecycle" description="How long the balancer waits, and how replicas leave and join." testId="rules-section-timeouts">
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
          {num("timeouts.connectMs", "Connect", { suffix: "ms", hint: `to a replica: ${humanMs(draft.timeouts.connectMs)}` })}
          {num("timeouts.serverMs", "Server", { suffix: "ms", hint: `for its answer: ${humanMs(draft.timeouts.serverMs)}` })}
          {num("timeouts.clientMs", "Client", { suffix: "ms", hint: `idle client: ${humanMs(draft.timeouts.clientMs)}` })}
          {num("drainTimeoutMs", "Drain timeout", { suffix: "ms", hint: reason("drain") ? `Not available on ${engine?.kind}: ${reason("drain")}` : `scale-in waits up to ${humanMs(draft.drainTimeoutMs)} for open requests` })}
          {num("slowStartMs", "Slow start", { suffix: "ms", hint: draft.slowStartMs > 0 ? `a returning replica ramps up over ${humanMs(draft.slowStartMs)}` : "0 = off: a returning replica gets its full share at once", cap: "slowStart", inUse: draft.slowStartMs > 0 })}
        </div>
      </Section>

      <Section
        title="Routes"
        description="Which requests reach this service when several services share the listener, like an API gateway. The longer, more specific rule is tried first unless a priority says otherwise."
        testId="rules-section-route"
      >
        <RoutesTable
          routes={draft.routes}
          onChange={(routes) => update(["routes"], routes)}
          errors={errors}
          changed={changed}
          disabled={disabled}
          hostReason={reason("route.host")}
          stripReason={reason("route.stripPrefix")}
          listen={listen ?? null}
        />
        <div className="border-t border-zinc-200 pt-3 dark:border-zinc-800">
          <p className="mb-1.5 text-xs font-medium text-zinc-700 dark:text-zinc-300">Try a URL (applied routes of every service)</p>
          <TryUrl example={`http://${reachHostOf(listen)}:${listen?.port ?? 8080}${draft.routes[0]?.path ?? "/"}`} />
        </div>
      </Section>
    </div>
  );
}

function toggle(list: readonly RetryCondition[], c: RetryCondition, on: boolean): RetryCondition[] {
  const set = new Set(list);
  if (on) set.add(c);
  else set.delete(c);
  // keep the model's order, so a toggle back and forth is not a change
  return retryConditions.filter((x) => set.has(x));
}
