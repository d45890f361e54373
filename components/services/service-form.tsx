"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";
import type { ServiceView } from "@/lib/services/views";
import { MEMORY_THRESHOLD } from "@/lib/core/service";
import {
  commandChoices,
  emptyForm,
  formFromService,
  imageChoices,
  policyErrors,
  routeFieldOf,
  toCreateBody,
  toUpdateBody,
  isListed,
  runsImage,
  type FieldErrors,
  type RunPolicy,
  type ServiceFormValues,
} from "@/components/services/service-form-model";
import { ActionsEditor } from "@/components/services/service-form-actions";
import { DiscoverFields, EndpointsEditor } from "@/components/services/service-form-source";

const textarea =
  "block w-full rounded-md border-0 bg-white px-2.5 py-1.5 font-mono text-xs text-zinc-900 ring-1 ring-inset ring-zinc-300 placeholder:text-zinc-400 focus:ring-2 focus:ring-indigo-500 disabled:opacity-50 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700";

/** Map the server's zod details ({path, message}[]) onto the form's fields. */
function serverFieldErrors(e: ApiError): FieldErrors {
  const out: FieldErrors = {};
  if (Array.isArray(e.details)) {
    for (const d of e.details as { path?: string; message?: string }[]) {
      const parts = (d.path ?? "").split(".");
      const route = routeFieldOf(parts);
      const key = (route ?? parts[0]) as keyof FieldErrors;
      if (key && key in emptyForm() && !out[key]) out[key] = d.message ?? "invalid";
    }
  }
  return out;
}

/**
 * Create or edit a service. Validation is the API's own zod schema
 * (createServiceSchema / updateServiceSchema), field by field, then the run policy
 * (lib/core/run-policy.ts): an operator picks the image and command from what an
 * admin allowed, and is told which variables only an admin may set. The server's
 * message is shown as well when it refuses.
 */
export function ServiceForm({
  service,
  maxReplicas,
  policy,
  onDone,
  onCancel,
}: {
  service?: ServiceView;
  maxReplicas: number;
  policy: RunPolicy;
  onDone: (s: ServiceView) => void;
  onCancel: () => void;
}) {
  const editing = Boolean(service);
  const limited = policy.role !== "admin";
  const [v, setV] = useState<ServiceFormValues>(() => (service ? formFromService(service) : emptyForm()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [touched, setTouched] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const check = (next: ServiceFormValues): FieldErrors => {
    const r = editing ? toUpdateBody(next, service) : toCreateBody(next);
    return r.ok ? policyErrors(policy, r.body, service) : r.errors;
  };
  const update = (next: ServiceFormValues) => {
    setV(next);
    // what the role may not do shows at once; the rest after the first submit
    const found = check(next);
    setErrors(touched ? found : Object.fromEntries(Object.entries(found).filter(([k]) => k === "image" || k === "command" || k === "env")));
  };
  // instances the panel does not start (issue 14): no image, command, count or limits to set
  const listed = isListed(v);
  const set = (k: keyof ServiceFormValues) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>) =>
    update({ ...v, [k]: e.target.value } as ServiceFormValues);

  // what runs: an image (docker) or a command (process); an operator picks from what an admin allowed
  const runs =
    runsImage(v.runtime)
      ? {
          key: "image" as const,
          label: "Image",
          hint: "blank: the built-in replica image",
          limitedHint: "operators pick from the images an admin allowed (Settings)",
          placeholder: policy.defaultImage,
          choices: () => imageChoices(policy, service?.image ?? null),
        }
      : {
          key: "command" as const,
          label: "Command",
          hint: "blank: the built-in replica app; arguments split on spaces, quotes group; runs as an unprivileged user",
          limitedHint: "operators pick from the commands an admin allowed (Settings); replicas never run as root",
          placeholder: "node app.js",
          choices: () => commandChoices(policy, service?.command ?? null),
        };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    setServerError(null);
    const r = editing ? toUpdateBody(v, service) : toCreateBody(v);
    if (!r.ok) {
      setErrors(r.errors);
      return;
    }
    const refused = policyErrors(policy, r.body, service);
    if (Object.keys(refused).length) {
      setErrors(refused);
      return;
    }
    setErrors({});
    if (editing && Object.keys(r.body).length === 0) {
      setServerError(null);
      onCancel();
      return;
    }
    setBusy(true);
    try {
      const res = editing
        ? await api<{ service: ServiceView }>(`/api/services/${service!.id}`, { method: "PATCH", body: r.body })
        : await api<{ service: ServiceView }>("/api/services", { method: "POST", body: r.body });
      onDone(res.service);
    } catch (err) {
      if (err instanceof ApiError) {
        setServerError(err.message);
        setErrors(serverFieldErrors(err));
      } else setServerError(String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate className="space-y-4" data-testid="service-form" aria-label={editing ? `edit ${service!.name}` : "new service"}>
      <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
        <Field label="Name" error={errors.name} hint={editing ? "cannot change: it names the balancer backend" : "a DNS label, e.g. web or api-v2"}>
          <Input name="name" value={v.name} onChange={set("name")} disabled={editing} autoComplete="off" placeholder="web" />
        </Field>
        <Field
          label="Runtime"
          error={errors.runtime}
          hint={
            v.runtime === "process"
              ? "child processes on this host"
              : v.runtime === "docker"
                ? "containers through the Docker Engine API"
                : v.runtime === "swarm"
                  ? "tasks of a Swarm service on SWARM_MANAGER, behind a balancer on its overlay (experimental)"
                  : v.runtime === "kubernetes"
                    ? "pods of a Deployment on KUBERNETES_API, reached through the cluster's own Service (experimental)"
                    : "instances already running elsewhere, given by address"
          }
        >
          <Select name="runtime" value={v.runtime} onChange={set("runtime")} disabled={editing}>
            <option value="process">process</option>
            <option value="docker">docker</option>
            {/* pointing at instances the panel did not start is an admin's choice */}
            {(!limited || v.runtime === "external") && <option value="external">external (addresses)</option>}
            {/* a Swarm cluster runs it on other machines: an admin's choice too */}
            {(!limited || v.runtime === "swarm") && <option value="swarm">swarm (experimental)</option>}
            {(!limited || v.runtime === "kubernetes") && <option value="kubernetes">kubernetes (experimental)</option>}
          </Select>
        </Field>
        {v.runtime === "docker" && (
          <Field label="Containers" hint={v.dockerSource === "image" ? "the panel starts and scales them" : "adopt running ones by their labels"}>
            <Select name="dockerSource" value={v.dockerSource} onChange={set("dockerSource")} disabled={editing}>
              <option value="image">start from an image</option>
              {(!limited || v.dockerSource === "discover") && <option value="discover">discover running containers</option>}
            </Select>
          </Field>
        )}
        {!listed && (
          <Field label={runs.label} error={errors[runs.key]} hint={limited ? runs.limitedHint : runs.hint}>
            {limited ? (
              <Select name={runs.key} value={v[runs.key]} onChange={set(runs.key)}>
                {runs.choices().map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </Select>
            ) : (
              <Input name={runs.key} value={v[runs.key]} onChange={set(runs.key)} placeholder={runs.placeholder} autoComplete="off" />
            )}
          </Field>
        )}
        {!listed && (
          <Field label="Replicas" error={errors.replicas} hint={editing ? "change it with the slider on the service page" : `0–${maxReplicas}`}>
            <Input name="replicas" inputMode="numeric" value={v.replicas} onChange={set("replicas")} disabled={editing} />
          </Field>
        )}
        {v.runtime !== "external" && (
          <Field
            label="Data port"
            error={errors.dataPort}
            hint={editing ? "fixed after creation" : listed ? "the app's port in its containers (a container's switchyard.port label names its own)" : "inside the replica; on the process runtime the panel picks the real port"}
          >
            <Input name="dataPort" inputMode="numeric" value={v.dataPort} onChange={set("dataPort")} disabled={editing} />
          </Field>
        )}
        {!listed && (
          <>
            <Field label="Admin port" error={errors.adminPort} hint={editing ? "fixed after creation" : "the management plane (stress, clear)"}>
              <Input name="adminPort" inputMode="numeric" value={v.adminPort} onChange={set("adminPort")} disabled={editing} />
            </Field>
            <Field label="Memory limit (MB)" error={errors.memoryLimitMb} hint={`its /health turns 503 past ${v.memoryThresholdPercent.trim() || MEMORY_THRESHOLD.default}% of it`}>
              <Input name="memoryLimitMb" inputMode="numeric" value={v.memoryLimitMb} onChange={set("memoryLimitMb")} />
            </Field>
            <Field
              label="Memory threshold (%)"
              error={errors.memoryThresholdPercent}
              hint={`${MEMORY_THRESHOLD.min}–${MEMORY_THRESHOLD.max}: past this share of the limit the replica's /health answers 503${editing ? "; replicas started from now on use it (a restart keeps a replica's own)" : ""}`}
            >
              <Input name="memoryThresholdPercent" inputMode="numeric" value={v.memoryThresholdPercent} onChange={set("memoryThresholdPercent")} />
            </Field>
            <Field label="CPU limit (cores)" error={errors.cpuLimit} hint="blank: no limit (docker only)">
              <Input name="cpuLimit" inputMode="decimal" value={v.cpuLimit} onChange={set("cpuLimit")} placeholder="e.g. 0.5" />
            </Field>
            <Field label="Max replicas" error={errors.maxReplicas} hint={`the slider's end; blank: ${maxReplicas}`}>
              <Input name="maxReplicas" inputMode="numeric" value={v.maxReplicas} onChange={set("maxReplicas")} placeholder={String(maxReplicas)} />
            </Field>
            <div className="sm:col-span-2 lg:col-span-3">
              <Field
                label="Environment"
                error={errors.env}
                hint={limited ? "KEY=VALUE, one per line; variables that change how code loads (NODE_OPTIONS, LD_*, PATH, PYTHON*, …) only an admin may set" : "KEY=VALUE, one per line"}
              >
                <textarea name="env" rows={3} className={textarea} value={v.env} onChange={set("env")} placeholder={"GREETING=hello\nLOG_LEVEL=info"} />
              </Field>
            </div>
          </>
        )}
      </div>
      {v.runtime === "external" && <EndpointsEditor rows={v.endpoints} error={errors.endpoints} onChange={(endpoints) => update({ ...v, endpoints })} />}
      {v.runtime === "docker" && v.dockerSource === "discover" && <DiscoverFields v={v} errors={errors} update={update} />}
      {editing ? (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="service-form-route">
          Route: {v.routeHost || "any host"} {v.routePathPrefix}
          {v.routeStripPrefix ? " (prefix stripped)" : ""}; health check GET {v.healthPath} expecting {v.healthExpectStatus}. Change them, with the other balancer rules, in the service&apos;s Rules tab.
        </p>
      ) : (
        <fieldset className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" data-testid="service-form-route">
          <legend className="mb-1 text-xs font-semibold text-zinc-700 dark:text-zinc-300">Route: which requests the balancer sends to this service</legend>
          <Field label="Host" error={errors.routeHost} hint="blank: any host; e.g. shop.local or *.shop.local (matched on the Host header); more names in the Rules tab">
            <Input name="routeHost" value={v.routeHost} onChange={set("routeHost")} autoComplete="off" placeholder="any host" />
          </Field>
          <Field label="Path prefix" error={errors.routePathPrefix} hint="requests whose path is it or under it, e.g. /api; more routes in the Rules tab">
            <Input name="routePathPrefix" value={v.routePathPrefix} onChange={set("routePathPrefix")} autoComplete="off" placeholder="/" />
          </Field>
          <div className="flex items-end sm:col-span-2">
            <label className="flex items-center gap-2 pb-1.5 text-xs">
              <input type="checkbox" name="routeStripPrefix" checked={v.routeStripPrefix} onChange={(e) => update({ ...v, routeStripPrefix: e.target.checked })} />
              Strip the prefix before passing the request on (/api/users reaches the replica as /users)
            </label>
          </div>
          <Field label="Health path" error={errors.healthPath} hint="on the data port; any app: e.g. /api/health (the balancer takes an instance out while it answers otherwise)">
            <Input name="healthPath" value={v.healthPath} onChange={set("healthPath")} autoComplete="off" placeholder="/health" />
          </Field>
          <Field label="Expected status" error={errors.healthExpectStatus} hint="what a healthy instance answers there; the body is not read">
            <Input name="healthExpectStatus" inputMode="numeric" value={v.healthExpectStatus} onChange={set("healthExpectStatus")} placeholder="200" />
          </Field>
        </fieldset>
      )}
      <ActionsEditor rows={v.actions} error={errors.actions} onChange={(actions) => update({ ...v, actions })} />
      {v.runtime === "docker" &&
        !listed &&
        (limited ? (
          service?.allowRoot && <p className="text-xs text-amber-700 dark:text-amber-400">An admin lets this service&apos;s containers run as root when the image does.</p>
        ) : (
          <label className="flex items-center gap-2 text-xs">
            <input type="checkbox" name="allowRoot" checked={v.allowRoot} onChange={(e) => update({ ...v, allowRoot: e.target.checked })} />
            Let the containers run as root when the image does (otherwise such an image runs as nobody, 65534)
          </label>
        ))}
      {!listed && (
        <label className="flex items-center gap-2 text-xs">
          <input
            type="checkbox"
            name="replicaProtocol"
            checked={v.replicaProtocol ?? (!v.command.trim() && (!runsImage(v.runtime) || !v.image.trim() || v.image.trim() === policy.defaultImage))}
            onChange={(e) => update({ ...v, replicaProtocol: e.target.checked })}
          />
          The app speaks Switchyard&apos;s replica protocol (its cards then offer the protocol&apos;s Stress and Faults; the faults that need nothing from the app work either way)
        </label>
      )}
      {editing && !listed && <p className="text-xs text-zinc-500">Changes apply to replicas started from now on (scale, restart or replace a replica to pick them up).</p>}
      {errors.form && <Alert>{errors.form}</Alert>}
      {serverError && <Alert>{`The panel refused: ${serverError}`}</Alert>}
      <div className="flex gap-2">
        <Button type="submit" disabled={busy}>
          {busy ? (editing ? "Saving…" : "Creating…") : editing ? "Save changes" : "Create service"}
        </Button>
        <Button type="button" variant="secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
