"use client";

import { useEffect } from "react";
import { useRouter } from "next/navigation";
import { liveSocket } from "@/lib/client/live";

/**
 * Re-renders the Balancer page when someone (here or elsewhere) applies rules,
 * rolls back, or adds/removes a service: the events that make a new revision.
 */
export function LiveRefresh() {
  const router = useRouter();
  useEffect(() => {
    const s = liveSocket();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const onEvent = (e: { kind?: string }) => {
      if (!e.kind || !/^(rules\.|service\.(created|deleted))/.test(e.kind)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => router.refresh(), 300);
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
      if (timer) clearTimeout(timer);
    };
  }, [router]);
  return null;
}
