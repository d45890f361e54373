"use client";

import { useEffect, useState } from "react";

function relative(iso: string, now: number): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** A time as "3 min ago" with the exact local time on hover (rendered in the browser's time zone). */
export function When({ iso }: { iso: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(t);
  }, []);
  return (
    <time dateTime={iso} title={now === null ? iso : new Date(iso).toLocaleString()} suppressHydrationWarning>
      {now === null ? iso.replace("T", " ").slice(0, 19) + " UTC" : relative(iso, now)}
    </time>
  );
}
