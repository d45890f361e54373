"use client";

import { useEffect, useState } from "react";

/** Pure: "just now", "12 s ago", "3 min ago", "2 h ago", then the date. */
export function relativeTime(iso: string, now: number): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** Pure: how long until the text of relativeTime can change: every second under a minute, then every 15 s. */
export function nextTickMs(iso: string, now: number): number {
  return now - new Date(iso).getTime() < 60_000 ? 1000 : 15_000;
}

/** A time as "3 min ago" that keeps ticking, with the exact local time on hover (rendered in the browser's time zone). */
export function When({ iso }: { iso: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const tick = () => {
      const t = Date.now();
      setNow(t);
      timer = setTimeout(tick, nextTickMs(iso, t));
    };
    tick();
    return () => clearTimeout(timer);
  }, [iso]);
  return (
    <time dateTime={iso} title={now === null ? iso : new Date(iso).toLocaleString()} suppressHydrationWarning data-testid="relative-time">
      {now === null ? iso.replace("T", " ").slice(0, 19) + " UTC" : relativeTime(iso, now)}
    </time>
  );
}
