"use client";

import { useEffect, useState } from "react";
import { api } from "@/lib/client/api";
import type { ListenerChoice } from "@/components/rules/routes-model";

/** One read of GET /api/listeners shared by every component of a page for a few seconds (a list of cards asks once). */
let shared: { at: number; promise: Promise<ListenerChoice[] | null> } | null = null;
const FRESH_MS = 5000;

function readListeners(): Promise<ListenerChoice[] | null> {
  if (shared && Date.now() - shared.at < FRESH_MS) return shared.promise;
  const promise = api<{ listeners: ListenerChoice[] }>("/api/listeners")
    .then((r) => r.listeners.map(({ name, port, protocol }) => ({ name, port, protocol })))
    .catch(() => null);
  shared = { at: Date.now(), promise };
  return promise;
}

/** The balancer's listeners (name, port, protocol), or null until they are read (or when they cannot be). */
export function useListeners(): ListenerChoice[] | null {
  const [listeners, setListeners] = useState<ListenerChoice[] | null>(null);
  useEffect(() => {
    let live = true;
    void readListeners().then((l) => {
      if (live) setListeners(l);
    });
    return () => {
      live = false;
    };
  }, []);
  return listeners;
}
