"use client";

import { Button } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/field";
import { ACTION_LIMITS, ACTION_METHODS } from "@/lib/core/service";
import { emptyActionRow, type ActionRow } from "@/components/services/service-form-model";

/**
 * The app's own actions in the service form (issue 14): a small list, one row each
 * (name, method, path, data or admin port, body, confirm). Each becomes a button on every
 * replica card that sends the request straight to that instance, never through the balancer.
 */
export function ActionsEditor({ rows, error, onChange }: { rows: ActionRow[]; error?: string; onChange: (rows: ActionRow[]) => void }) {
  const setRow = (i: number, patch: Partial<ActionRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="space-y-2" data-testid="service-form-actions">
      <legend className="mb-1 text-xs font-semibold text-zinc-700 dark:text-zinc-300">
        The app&apos;s own actions <span className="font-normal text-zinc-500">· buttons on each replica card; sent to that instance&apos;s own port, never through the balancer</span>
      </legend>
      {rows.map((r, i) => (
        <div key={i} className="grid min-w-0 grid-cols-2 gap-1.5 rounded-md border border-zinc-200 p-2 sm:grid-cols-[8rem_6rem_minmax(0,1fr)_6rem] dark:border-zinc-800" data-testid="action-row">
          <Input aria-label={`action ${i + 1} name`} value={r.name} onChange={(e) => setRow(i, { name: e.target.value })} placeholder="Stress" autoComplete="off" />
          <Select aria-label={`action ${i + 1} method`} value={r.method} onChange={(e) => setRow(i, { method: e.target.value as ActionRow["method"] })}>
            {ACTION_METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </Select>
          <Input aria-label={`action ${i + 1} path`} className="col-span-2 sm:col-span-1" value={r.path} onChange={(e) => setRow(i, { path: e.target.value })} placeholder="/api/stress" autoComplete="off" />
          <Select aria-label={`action ${i + 1} port`} value={r.port} onChange={(e) => setRow(i, { port: e.target.value as ActionRow["port"] })}>
            <option value="data">data port</option>
            <option value="admin">admin port</option>
          </Select>
          <Input aria-label={`action ${i + 1} body`} className="col-span-2 sm:col-span-3" value={r.body} onChange={(e) => setRow(i, { body: e.target.value })} placeholder='body (optional): text or {"json": true}' autoComplete="off" />
          <div className="col-span-2 flex items-center justify-between gap-2 sm:col-span-1">
            <label className="flex items-center gap-1 text-xs">
              <input type="checkbox" aria-label={`action ${i + 1} asks to confirm`} checked={r.confirm} onChange={(e) => setRow(i, { confirm: e.target.checked })} /> confirm
            </label>
            <Button type="button" size="sm" variant="ghost" aria-label={`Remove action ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              Remove
            </Button>
          </div>
        </div>
      ))}
      {error && (
        <p className="text-xs text-rose-700 dark:text-rose-400" role="alert">
          {error}
        </p>
      )}
      <Button type="button" size="sm" variant="secondary" disabled={rows.length >= ACTION_LIMITS.actions} onClick={() => onChange([...rows, emptyActionRow()])}>
        Add action
      </Button>
    </fieldset>
  );
}
