"use client";

import { useEffect, useState, type ReactNode } from "react";
import { usePathname } from "next/navigation";
import { NavLinks } from "@/components/shell/nav-links";

/**
 * The header on a phone: one Menu button that opens the sections, who is signed
 * in and Sign out under the header (the row of links does not fit at 390 px).
 * Closes on a link, on Escape and when the page changes.
 */
export function PhoneMenu({ account }: { account: ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);
  return (
    <div className="md:hidden">
      <button
        type="button"
        aria-expanded={open}
        aria-controls="phone-menu"
        onClick={() => setOpen((o) => !o)}
        className="inline-flex items-center gap-1.5 rounded-md px-2.5 py-1.5 text-sm font-medium text-zinc-700 ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:text-zinc-200 dark:ring-zinc-700 dark:hover:bg-zinc-800"
      >
        <svg aria-hidden width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.75" strokeLinecap="round">
          {open ? <path d="M4 4l8 8M12 4l-8 8" /> : <path d="M2.5 4h11M2.5 8h11M2.5 12h11" />}
        </svg>
        Menu
      </button>
      {open && (
        <div id="phone-menu" data-testid="phone-menu" className="absolute inset-x-0 top-14 border-b border-zinc-200 bg-white px-4 py-3 shadow-md dark:border-zinc-800 dark:bg-zinc-900">
          <NavLinks vertical onNavigate={() => setOpen(false)} />
          <div className="mt-3 flex items-center gap-3 border-t border-zinc-200 pt-3 text-sm dark:border-zinc-800">{account}</div>
        </div>
      )}
    </div>
  );
}
