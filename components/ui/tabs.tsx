"use client";

import { useRef, type KeyboardEvent, type ReactNode } from "react";

export type TabItem<T extends string> = { value: T; label: ReactNode };

/** The ids that tie a tab to its panel (aria-controls / aria-labelledby). */
export const tabId = (idBase: string, value: string) => `${idBase}-tab-${value}`;
export const tabPanelId = (idBase: string, value: string) => `${idBase}-panel-${value}`;

/**
 * A row of tabs as WAI-ARIA's tabs pattern wants them: role=tablist/tab, one tab
 * stop (roving tabindex: only the selected tab is in the Tab order), Left/Right
 * arrows move to the previous/next tab and select it (wrapping), Home/End to the
 * first/last. Pair it with <TabPanel idBase value> for each panel.
 */
export function Tabs<T extends string>({ items, value, onChange, label, idBase, className = "" }: { items: readonly TabItem<T>[]; value: T; onChange: (v: T) => void; label: string; idBase: string; className?: string }) {
  const refs = useRef(new Map<T, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, at: number) => {
    const last = items.length - 1;
    const to = e.key === "ArrowRight" ? (at === last ? 0 : at + 1) : e.key === "ArrowLeft" ? (at === 0 ? last : at - 1) : e.key === "Home" ? 0 : e.key === "End" ? last : null;
    if (to === null) return;
    e.preventDefault();
    const next = items[to].value;
    onChange(next);
    refs.current.get(next)?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className={`flex gap-1 rounded-lg bg-zinc-100 p-1 text-sm dark:bg-zinc-800 ${className}`}>
      {items.map((t, i) => {
        const selected = t.value === value;
        return (
          <button
            key={t.value}
            ref={(el) => {
              if (el) refs.current.set(t.value, el);
              else refs.current.delete(t.value);
            }}
            type="button"
            role="tab"
            id={tabId(idBase, t.value)}
            aria-selected={selected}
            aria-controls={tabPanelId(idBase, t.value)}
            tabIndex={selected ? 0 : -1}
            onClick={() => onChange(t.value)}
            onKeyDown={(e) => onKeyDown(e, i)}
            className={`rounded-md px-3 py-1 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${selected ? "bg-white font-medium shadow-sm dark:bg-zinc-900" : "text-zinc-600 hover:text-zinc-900 dark:text-zinc-300 dark:hover:text-white"}`}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}

/**
 * The panel of the selected tab (render only the selected one). It is the next tab
 * stop after the tablist (tabIndex 0, as the pattern advises when a panel does not
 * start with a focusable element), so Tab from the tabs lands on what they show.
 */
export function TabPanel({ idBase, value, children, className = "" }: { idBase: string; value: string; children: ReactNode; className?: string }) {
  return (
    <div role="tabpanel" tabIndex={0} id={tabPanelId(idBase, value)} aria-labelledby={tabId(idBase, value)} className={`rounded-md focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-4 dark:focus-visible:ring-offset-zinc-950 ${className}`}>
      {children}
    </div>
  );
}
