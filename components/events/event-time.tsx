"use client";

import { useEffect, useState } from "react";

const pad = (n: number) => String(n).padStart(2, "0");

/** Pure: "2026-11-29 14:03:07" in the zone of `d` as given by the getters (local) or UTC. */
export function dateTimeText(iso: string, zone: "local" | "utc"): string {
  const d = new Date(iso);
  if (zone === "utc") return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * An event's date and time. The server does not know the reader's time zone, so the
 * server and the first browser render both show UTC (the same text: no hydration
 * mismatch), and once mounted the browser shows its local time, UTC on hover.
 */
export function EventTime({ iso }: { iso: string }) {
  const [isLocal, setLocal] = useState(false);
  useEffect(() => setLocal(true), []);
  return (
    <time dateTime={iso} title={dateTimeText(iso, "utc")} data-zone={isLocal ? "local" : "utc"} className="shrink-0 whitespace-nowrap font-mono text-xs tabular-nums text-zinc-600 dark:text-zinc-400">
      {dateTimeText(iso, isLocal ? "local" : "utc")}
    </time>
  );
}
