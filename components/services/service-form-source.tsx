"use client";

import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { ENDPOINT_LIMITS } from "@/lib/core/service";
import type { FieldErrors, ServiceFormValues } from "@/components/services/service-form-model";

/**
 * Where the instances come from when the panel starts none (issue 14, item 3): the
 * external endpoints (one "host:port" per row) or the Docker labels that discover running
 * containers. Checked by the API's own schema (lib/core/service.ts) like the rest of the form.
 */
export function EndpointsEditor({ rows, error, onChange }: { rows: string[]; error?: string; onChange: (rows: string[]) => void }) {
  return (
    <fieldset className="space-y-2" data-testid="service-form-endpoints">
      <legend className="mb-1 text-xs font-semibold text-zinc-700 dark:text-zinc-300">
        Endpoints <span className="font-normal text-zinc-600 dark:text-zinc-400">· host:port of each instance (a host name, an IPv4 address); the panel checks their health and balances them, and starts none</span>
      </legend>
      {rows.map((r, i) => (
        <div key={i} className="flex min-w-0 items-center gap-1.5" data-testid="endpoint-row">
          <Input aria-label={`endpoint ${i + 1}`} className="min-w-0 flex-1 font-mono" value={r} onChange={(e) => onChange(rows.map((x, j) => (j === i ? e.target.value : x)))} placeholder="10.0.0.5:8080" autoComplete="off" />
          <Button type="button" size="sm" variant="ghost" aria-label={`Remove endpoint ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))} disabled={rows.length <= 1}>
            Remove
          </Button>
        </div>
      ))}
      {error && (
        <p className="text-xs text-rose-700 dark:text-rose-400" role="alert">
          {error}
        </p>
      )}
      <Button type="button" size="sm" variant="secondary" disabled={rows.length >= ENDPOINT_LIMITS.endpoints} onClick={() => onChange([...rows, ""])}>
        Add endpoint
      </Button>
    </fieldset>
  );
}

export function DiscoverFields({ v, errors, update }: { v: ServiceFormValues; errors: FieldErrors; update: (next: ServiceFormValues) => void }) {
  const set = (k: "discoverBy" | "discoverLabel" | "discoverProject" | "discoverService") => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => update({ ...v, [k]: e.target.value } as ServiceFormValues);
  return (
    <fieldset className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" data-testid="service-form-discover">
      <legend className="mb-1 text-xs font-semibold text-zinc-700 dark:text-zinc-300">
        Discover running containers <span className="font-normal text-zinc-600 dark:text-zinc-400">· like Traefik&apos;s Docker provider: those that match join, those that stop leave; none is ever removed by the panel</span>
      </legend>
      <Field label="Match by" hint="compose: com.docker.compose.project / .service">
        <Select name="discoverBy" value={v.discoverBy} onChange={set("discoverBy")}>
          <option value="compose">compose project and service</option>
          <option value="label">a label</option>
        </Select>
      </Field>
      {v.discoverBy === "label" ? (
        <div className="sm:col-span-2">
          <Field label="Label" error={errors.discover} hint="key or key=value, e.g. com.docker.compose.service=api">
            <Input name="discoverLabel" className="font-mono" value={v.discoverLabel} onChange={set("discoverLabel")} placeholder="com.docker.compose.service=api" autoComplete="off" />
          </Field>
        </div>
      ) : (
        <>
          <Field label="Compose project" error={errors.discover} hint="the folder name compose used, e.g. shop">
            <Input name="discoverProject" value={v.discoverProject} onChange={set("discoverProject")} placeholder="shop" autoComplete="off" />
          </Field>
          <Field label="Compose service" hint="blank: every service of the project">
            <Input name="discoverService" value={v.discoverService} onChange={set("discoverService")} placeholder="api" autoComplete="off" />
          </Field>
        </>
      )}
    </fieldset>
  );
}
