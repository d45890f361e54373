"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";
import type { CertificateView, Listener } from "@/lib/core/listeners";
import { CertificatesCard } from "@/components/balancer/certificates-card";
import { ListenersCard } from "@/components/balancer/listeners-card";

/** The Balancer page's "Listeners and certificates" section: one state for both cards (a listener names a certificate). */
export function ListenersSection({
  initialListeners,
  initialCertificates,
  canEdit,
  canManageCertificates,
}: {
  initialListeners: Listener[];
  initialCertificates: CertificateView[];
  canEdit: boolean;
  canManageCertificates: boolean;
}) {
  const [listeners, setListeners] = useState(initialListeners);
  const [certificates, setCertificates] = useState(initialCertificates);
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);

  const refresh = async () => {
    const [l, c] = await Promise.all([api<{ listeners: Listener[] }>("/api/listeners"), api<{ certificates: CertificateView[] }>("/api/certificates")]);
    setListeners(l.listeners);
    setCertificates(c.certificates);
  };
  const run = async (fn: () => Promise<unknown>, ok: string): Promise<boolean> => {
    setMessage(null);
    try {
      await fn();
      await refresh();
      setMessage({ tone: "success", text: ok });
      return true;
    } catch (e) {
      setMessage({ tone: "error", text: e instanceof ApiError ? e.message : String(e) });
      return false;
    }
  };

  return (
    <section aria-labelledby="listeners-heading" className="min-w-0 space-y-3">
      <h2 id="listeners-heading" className="text-base font-semibold">
        Listeners and certificates
      </h2>
      <div className="grid gap-6 xl:grid-cols-2">
        <div className="min-w-0">
          <ListenersCard listeners={listeners} certificates={certificates} canEdit={canEdit} run={run} />
        </div>
        <div className="min-w-0">
          <CertificatesCard certificates={certificates} canManage={canManageCertificates} run={run} />
        </div>
      </div>
      {message && <Alert tone={message.tone}>{message.text}</Alert>}
    </section>
  );
}
