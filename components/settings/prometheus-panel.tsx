"use client";

import { useState, useSyncExternalStore } from "react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";

type MetricsToken = { id: string; name: string; createdBy: string; createdAt: string; lastUsedAt: string | null };

const noSubscribe = () => () => undefined;

/** The scrape_config a Prometheus pastes; the token goes in a file beside its config, not in the config. */
function scrapeConfig(host: string, scheme: string): string {
  return [
    "scrape_configs:",
    "  - job_name: switchyard",
    `    scheme: ${scheme}`,
    "    metrics_path: /metrics",
    "    authorization:",
    "      type: Bearer",
    "      # a file with the token alone in it",
    "      credentials_file: /etc/prometheus/switchyard.token",
    "    static_configs:",
    `      - targets: ["${host}"]`,
  ].join("\n");
}

/** Settings → Prometheus (admins): named bearer tokens for GET /metrics, shown once; the scrape config to paste. */
export function PrometheusPanel({ initial }: { initial: MetricsToken[] }) {
  const [tokens, setTokens] = useState(initial);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const host = useSyncExternalStore(noSubscribe, () => window.location.host, () => "PANEL_HOST:PORT");
  const scheme = useSyncExternalStore(noSubscribe, () => window.location.protocol.replace(":", ""), () => "http");

  const refresh = async () => setTokens((await api<{ tokens: MetricsToken[] }>("/api/settings/metrics-tokens")).tokens);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setMessage(null);
    setBusy(true);
    try {
      const out = await api<{ token: string; metricsToken: MetricsToken }>("/api/settings/metrics-tokens", { body: { name } });
      setCreated({ name: out.metricsToken.name, token: out.token });
      setName("");
      await refresh();
    } catch (err) {
      setMessage({ tone: "error", text: err instanceof ApiError ? err.message : "Cannot reach the panel." });
    } finally {
      setBusy(false);
    }
  }

  async function revoke(t: MetricsToken) {
    if (!window.confirm(`Revoke the token "${t.name}"? A Prometheus that scrapes with it gets 401 from now on.`)) return;
    setMessage(null);
    try {
      await api(`/api/settings/metrics-tokens/${t.id}`, { method: "DELETE" });
      if (created?.name === t.name) setCreated(null);
      await refresh();
      setMessage({ tone: "success", text: `Token "${t.name}" revoked.` });
    } catch (err) {
      setMessage({ tone: "error", text: err instanceof ApiError ? err.message : "Cannot reach the panel." });
    }
  }

  const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

  return (
    <Card title="Prometheus">
      <div className="space-y-4 text-sm" data-testid="prometheus-panel">
        <p className="text-zinc-600 dark:text-zinc-400">
          <code className="text-xs">GET /metrics</code> answers in the Prometheus text format to a request with <code className="text-xs">Authorization: Bearer &lt;token&gt;</code>. Create one token
          per Prometheus; the panel keeps only a hash, so a token is shown once. Requests, errors, latency, health, memory and CPU per replica; desired and ready replicas per
          service; engine reloads and apply results.
        </p>

        <form className="flex flex-col gap-2 sm:flex-row sm:items-end" onSubmit={create}>
          <Field label="Token name">
            <Input name="metrics-token-name" placeholder="e.g. prometheus-prod" value={name} maxLength={60} onChange={(e) => setName(e.target.value)} required />
          </Field>
          <Button type="submit" disabled={busy}>
            Create token
          </Button>
        </form>

        {created && (
          <div className="space-y-1 rounded-md border border-amber-300 bg-amber-50 p-3 dark:border-amber-700 dark:bg-amber-950/40" data-testid="metrics-token-created">
            <p className="font-medium text-amber-900 dark:text-amber-200">Token &ldquo;{created.name}&rdquo;: copy it now, it is not shown again.</p>
            <code data-testid="metrics-token-value" className="block rounded bg-white px-2 py-1 font-mono text-xs break-all text-zinc-900 select-all dark:bg-zinc-950 dark:text-zinc-100">
              {created.token}
            </code>
          </div>
        )}

        <div className="overflow-x-auto">
          <table className="w-full min-w-[18rem] text-sm">
            <thead className="text-left text-xs text-zinc-500 dark:text-zinc-400">
              <tr>
                <th className="pb-2">Name</th>
                <th className="hidden pb-2 sm:table-cell">Created</th>
                <th className="pb-2">Last used</th>
                <th className="pb-2 text-right">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {tokens.length === 0 && (
                <tr>
                  <td colSpan={4} className="py-2 text-zinc-600 dark:text-zinc-400">
                    No tokens: nothing can scrape /metrics.
                  </td>
                </tr>
              )}
              {tokens.map((t) => (
                <tr key={t.id} data-testid={`metrics-token-row-${t.name}`}>
                  <td className="py-2 pr-2 font-medium break-words">{t.name}</td>
                  <td className="hidden py-2 pr-2 text-zinc-600 sm:table-cell dark:text-zinc-400">
                    {when(t.createdAt)} <span className="text-xs">by {t.createdBy}</span>
                  </td>
                  <td className="py-2 pr-2 text-zinc-600 dark:text-zinc-400">{when(t.lastUsedAt)}</td>
                  <td className="py-2 text-right">
                    <Button variant="danger" size="sm" onClick={() => void revoke(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>

        <div className="space-y-1">
          <p className="font-medium">Scrape config</p>
          <pre data-testid="scrape-config" className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs leading-relaxed text-zinc-800 dark:bg-zinc-950 dark:text-zinc-200">
            {scrapeConfig(host, scheme)}
          </pre>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            A ready Grafana dashboard is in the repository: <code>grafana/dashboards/switchyard.json</code> (README, &ldquo;Prometheus and Grafana&rdquo;).
          </p>
        </div>
        {message && <Alert tone={message.tone}>{message.text}</Alert>}
      </div>
    </Card>
  );
}
