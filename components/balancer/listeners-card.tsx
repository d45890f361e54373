"use client";

import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { api } from "@/lib/client/api";
import { DEFAULT_LISTENER_NAME, type CertificateView, type Listener } from "@/lib/core/listeners";

type Draft = { name: string; port: string; protocol: "http" | "https"; certificateId: string; sniCertificateIds: string[]; redirectToHttps: boolean };

const emptyDraft: Draft = { name: "", port: "", protocol: "http", certificateId: "", sniCertificateIds: [], redirectToHttps: false };

const draftOf = (l: Listener): Draft => ({
  name: l.name,
  port: String(l.port),
  protocol: l.protocol,
  certificateId: l.certificateId ?? "",
  sniCertificateIds: l.sniCertificateIds,
  redirectToHttps: l.redirectToHttps,
});

/** The body the API takes (POST whole, PATCH the same fields). */
function bodyOf(d: Draft, isDefault: boolean) {
  const body: Record<string, unknown> = { protocol: d.protocol };
  if (!isDefault) Object.assign(body, { name: d.name, port: Number(d.port) });
  if (d.protocol === "https") Object.assign(body, { certificateId: d.certificateId || null, sniCertificateIds: d.sniCertificateIds.filter((id) => id !== d.certificateId) });
  else body.redirectToHttps = d.redirectToHttps;
  return body;
}

/**
 * The balancer's listeners (issue 13): each port, http or https, its certificate or its
 * redirect. Operators add, edit and delete; every change is a balancer apply (a revision).
 */
export function ListenersCard({
  listeners,
  certificates,
  canEdit,
  run,
}: {
  listeners: Listener[];
  certificates: CertificateView[];
  canEdit: boolean;
  run: (fn: () => Promise<unknown>, ok: string) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState<string | null>(null); // listener id, "new", or null
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const subjectOf = (id: string | null) => certificates.find((c) => c.id === id)?.subject ?? id ?? "—";
  const editingDefault = listeners.find((l) => l.id === editing)?.name === DEFAULT_LISTENER_NAME;

  const save = async () => {
    const isNew = editing === "new";
    const ok = await run(
      () => (isNew ? api("/api/listeners", { body: bodyOf(draft, false) }) : api(`/api/listeners/${editing}`, { method: "PATCH", body: bodyOf(draft, editingDefault) })),
      isNew ? `listener ${draft.name} added on port ${draft.port}` : `listener ${draft.name} changed`,
    );
    if (ok) setEditing(null);
  };

  const form = (
    <form
      className="mt-3 grid gap-3 rounded-md bg-zinc-50 p-3 sm:grid-cols-2 lg:grid-cols-5 lg:items-end dark:bg-zinc-950"
      aria-label={editing === "new" ? "Add a listener" : `Edit listener ${draft.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <Field label="Name" hint={editingDefault ? "the default listener keeps its name" : "a DNS label, e.g. websecure"}>
        <Input name="listener-name" value={draft.name} disabled={editingDefault} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
      </Field>
      <Field label="Port" hint={editingDefault ? "BALANCER_PORT" : "1024-65535"}>
        <Input name="listener-port" type="number" min={1024} max={65535} value={draft.port} disabled={editingDefault} onChange={(e) => setDraft({ ...draft, port: e.target.value })} required />
      </Field>
      <Field label="Protocol">
        <Select name="listener-protocol" value={draft.protocol} onChange={(e) => setDraft({ ...draft, protocol: e.target.value === "https" ? "https" : "http" })}>
          <option value="http">http</option>
          <option value="https">https</option>
        </Select>
      </Field>
      {draft.protocol === "https" ? (
        <Field label="Certificate" hint={certificates.length === 0 ? "add a certificate below first" : "served when SNI names no other"}>
          <Select name="listener-certificate" value={draft.certificateId} onChange={(e) => setDraft({ ...draft, certificateId: e.target.value })} required>
            <option value="">choose…</option>
            {certificates.map((c) => (
              <option key={c.id} value={c.id}>
                {c.subject} ({c.names.join(", ")})
              </option>
            ))}
          </Select>
        </Field>
      ) : null}
      {draft.protocol === "https" && certificates.length > 1 && (
        <fieldset className="space-y-1 text-sm sm:col-span-2 lg:col-span-5">
          <legend className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Also serve, picked by the name the client asks for (SNI)</legend>
          <div className="flex flex-wrap gap-x-4 gap-y-1">
            {certificates
              .filter((c) => c.id !== draft.certificateId)
              .map((c) => (
                <label key={c.id} className="flex min-w-0 items-center gap-1.5 break-all">
                  <input
                    type="checkbox"
                    name="listener-sni"
                    checked={draft.sniCertificateIds.includes(c.id)}
                    onChange={(e) =>
                      setDraft({ ...draft, sniCertificateIds: e.target.checked ? [...draft.sniCertificateIds, c.id] : draft.sniCertificateIds.filter((id) => id !== c.id) })
                    }
                  />
                  {c.subject}
                </label>
              ))}
          </div>
        </fieldset>
      )}
      {draft.protocol === "http" && (
        <label className="flex items-center gap-2 self-center text-sm">
          <input type="checkbox" name="listener-redirect" checked={draft.redirectToHttps} onChange={(e) => setDraft({ ...draft, redirectToHttps: e.target.checked })} />
          Redirect to https (308)
        </label>
      )}
      <div className="flex gap-2">
        <Button type="submit">{editing === "new" ? "Add listener" : "Apply"}</Button>
        <Button type="button" variant="secondary" onClick={() => setEditing(null)}>
          Cancel
        </Button>
      </div>
    </form>
  );

  return (
    <Card
      title="Listeners"
      actions={
        canEdit && editing === null ? (
          <Button
            size="sm"
            onClick={() => {
              setDraft(emptyDraft);
              setEditing("new");
            }}
          >
            Add listener
          </Button>
        ) : null
      }
    >
      <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
        {listeners.map((l) => (
          <li key={l.id} className="flex min-w-0 flex-wrap items-center gap-2 py-2 text-sm" data-testid={`listener-${l.name}`}>
            <span className="font-medium">{l.name}</span>
            <span className="font-mono text-zinc-700 dark:text-zinc-300">:{l.port}</span>
            <Badge tone={l.protocol === "https" ? "green" : "zinc"}>{l.protocol}</Badge>
            {l.protocol === "https" && (
              <span className="min-w-0 break-all text-xs text-zinc-600 dark:text-zinc-400">
                certificate {subjectOf(l.certificateId)}
                {l.sniCertificateIds.length > 0 && `; by SNI also ${l.sniCertificateIds.map(subjectOf).join(", ")}`}
              </span>
            )}
            {l.redirectToHttps && <Badge tone="blue">redirects to https</Badge>}
            {canEdit && (
              <span className="ml-auto flex gap-2">
                <Button
                  variant="secondary"
                  size="sm"
                  aria-label={`Edit listener ${l.name}`}
                  onClick={() => {
                    setDraft(draftOf(l));
                    setEditing(l.id);
                  }}
                >
                  Edit
                </Button>
                {l.name !== DEFAULT_LISTENER_NAME && (
                  <Button
                    variant="danger"
                    size="sm"
                    aria-label={`Delete listener ${l.name}`}
                    onClick={() => {
                      if (window.confirm(`Delete listener ${l.name} (port ${l.port})?`)) void run(() => api(`/api/listeners/${l.id}`, { method: "DELETE" }), `listener ${l.name} deleted`);
                    }}
                  >
                    Delete
                  </Button>
                )}
              </span>
            )}
          </li>
        ))}
      </ul>
      {editing !== null && form}
    </Card>
  );
}
