"use client";

import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { api } from "@/lib/client/api";
import type { CertificateView } from "@/lib/core/listeners";

/**
 * The certificates (issue 13): what each is for and until when, never its key. Admins
 * upload a PEM chain and key or have the panel's local CA issue one for local names;
 * anyone may download the CA's root to trust it, once the CA has issued one.
 */
export function CertificatesCard({
  certificates,
  canManage,
  run,
}: {
  certificates: CertificateView[];
  canManage: boolean;
  run: (fn: () => Promise<unknown>, ok: string) => Promise<boolean>;
}) {
  const [mode, setMode] = useState<"generate" | "upload">("generate");
  const [hosts, setHosts] = useState("");
  const [pem, setPem] = useState("");
  const [key, setKey] = useState("");

  const submit = async () => {
    const body = mode === "generate" ? { generate: { hosts: hosts.split(/[\s,]+/).filter(Boolean) } } : { pem, key };
    const done = await run(() => api("/api/certificates", { body }), mode === "generate" ? `certificate for ${hosts} generated` : "certificate uploaded");
    if (done) {
      setHosts("");
      setPem("");
      setKey("");
    }
  };

  return (
    <Card
      title="Certificates"
      actions={
        // the local CA is made by the first generated certificate: before that there is nothing to download
        certificates.some((c) => c.generated) && (
          <a href="/api/certificates/ca" download className="text-xs font-medium text-indigo-700 underline hover:text-indigo-600 dark:text-indigo-300" data-testid="download-ca">
            Download the local CA root
          </a>
        )
      }
    >
      {certificates.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No certificate yet. An https listener needs one.</p>
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {certificates.map((c) => (
            <li key={c.id} className="min-w-0 space-y-1 py-2 text-sm" data-testid={`certificate-${c.subject}`}>
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium break-all">{c.subject}</span>
                {c.expired ? (
                  <Badge tone="red">expired</Badge>
                ) : c.expiresSoon ? (
                  <Badge tone="amber">expires soon: {c.daysLeft} days left</Badge>
                ) : (
                  <Badge tone="green">{c.daysLeft} days left</Badge>
                )}
                {c.generated && <Badge tone="violet">local CA</Badge>}
                {c.usedBy.length > 0 && <Badge tone="blue">used by {c.usedBy.join(", ")}</Badge>}
                {canManage && (
                  <Button
                    variant="danger"
                    size="sm"
                    className="ml-auto"
                    disabled={c.usedBy.length > 0}
                    title={c.usedBy.length > 0 ? "in use by a listener" : undefined}
                    onClick={() => {
                      if (window.confirm(`Delete the certificate for ${c.subject}?`)) void run(() => api(`/api/certificates/${c.id}`, { method: "DELETE" }), `certificate for ${c.subject} deleted`);
                    }}
                  >
                    Delete
                  </Button>
                )}
              </div>
              <dl className="grid gap-x-3 gap-y-0.5 text-xs text-zinc-600 sm:grid-cols-[max-content_1fr] dark:text-zinc-400">
                <dt className="font-medium text-zinc-700 dark:text-zinc-300">Names</dt>
                <dd className="break-all">{c.names.join(", ") || "—"}</dd>
                <dt className="font-medium text-zinc-700 dark:text-zinc-300">Issuer</dt>
                <dd className="break-all">{c.issuer}</dd>
                <dt className="font-medium text-zinc-700 dark:text-zinc-300">Valid</dt>
                <dd>
                  {c.notBefore.slice(0, 10)} to {c.notAfter.slice(0, 10)}
                </dd>
                <dt className="font-medium text-zinc-700 dark:text-zinc-300">SHA-256</dt>
                <dd className="font-mono break-all">{c.fingerprint}</dd>
              </dl>
            </li>
          ))}
        </ul>
      )}
      {canManage && (
        <form
          className="mt-4 space-y-3 border-t border-zinc-200 pt-4 dark:border-zinc-800"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <fieldset className="flex flex-wrap gap-4 text-sm">
            <legend className="sr-only">How to add a certificate</legend>
            <label className="flex items-center gap-1.5">
              <input type="radio" name="cert-mode" checked={mode === "generate"} onChange={() => setMode("generate")} /> Generate from the local CA
            </label>
            <label className="flex items-center gap-1.5">
              <input type="radio" name="cert-mode" checked={mode === "upload"} onChange={() => setMode("upload")} /> Upload PEM
            </label>
          </fieldset>
          {mode === "generate" ? (
            <Field label="Host names" hint="separated by spaces or commas, e.g. api.local *.local">
              <Input name="cert-hosts" value={hosts} onChange={(e) => setHosts(e.target.value)} required />
            </Field>
          ) : (
            <div className="grid gap-3 md:grid-cols-2">
              <Field label="Certificate chain (PEM, server certificate first)">
                <textarea name="cert-pem" value={pem} onChange={(e) => setPem(e.target.value)} rows={5} required className="block w-full rounded-md bg-white px-2.5 py-1.5 font-mono text-xs ring-1 ring-zinc-300 ring-inset dark:bg-zinc-950 dark:ring-zinc-700" />
              </Field>
              <Field label="Private key (PEM; stored with mode 600, never shown again)">
                <textarea name="cert-key" value={key} onChange={(e) => setKey(e.target.value)} rows={5} required autoComplete="off" className="block w-full rounded-md bg-white px-2.5 py-1.5 font-mono text-xs ring-1 ring-zinc-300 ring-inset dark:bg-zinc-950 dark:ring-zinc-700" />
              </Field>
            </div>
          )}
          <Button type="submit">{mode === "generate" ? "Generate certificate" : "Upload certificate"}</Button>
        </form>
      )}
    </Card>
  );
}
