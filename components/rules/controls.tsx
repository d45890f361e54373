"use client";

import { useState, type ReactNode } from "react";
import { Input } from "@/components/ui/field";

/** Small form controls of the rules editor (the ui/ primitives cover text inputs and selects). */

export function Section({ title, description, children, testId }: { title: string; description?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <fieldset data-testid={testId} className="min-w-0 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <legend className="px-1 text-sm font-semibold">{title}</legend>
      {description && <p className="-mt-1 mb-3 text-xs text-zinc-500">{description}</p>}
      <div className="space-y-3">{children}</div>
    </fieldset>
  );
}

/** A field label with a dot when the value differs from what is applied. */
export function Label({ text, changed }: { text: string; changed?: boolean }) {
  return (
    <>
      {text}
      {changed && (
        <span title="changed, not applied yet" className="ml-1 inline-block h-1.5 w-1.5 rounded-full bg-indigo-500 align-middle" aria-label="changed" />
      )}
    </>
  );
}

/**
 * A whole-number input that keeps what the user typed: an empty or non-numeric
 * text reports NaN, which the rules schema rejects with a message under the field.
 * Remount it (key) to show a value set from outside.
 */
export function NumberInput({ value, onValue, name, disabled, invalid, suffix }: { value: number; onValue: (n: number) => void; name: string; disabled?: boolean; invalid?: boolean; suffix?: string }) {
  const [text, setText] = useState(Number.isNaN(value) ? "" : String(value));
  return (
    <div className="relative">
      <Input
        name={name}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        value={text}
        disabled={disabled}
        aria-invalid={invalid || undefined}
        className={`${suffix ? "pr-10" : ""} ${invalid ? "ring-rose-400! dark:ring-rose-700!" : ""}`}
        onChange={(e) => {
          setText(e.target.value);
          const t = e.target.value.trim();
          onValue(t === "" || !/^-?\d+(\.\d+)?$/.test(t) ? NaN : Number(t));
        }}
      />
      {suffix && <span className="pointer-events-none absolute inset-y-0 right-2.5 flex items-center text-xs text-zinc-500">{suffix}</span>}
    </div>
  );
}

export function Checkbox({ name, checked, onChange, disabled, label, hint }: { name: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; label: ReactNode; hint?: ReactNode }) {
  return (
    <label className={`flex items-start gap-2 text-sm ${disabled ? "cursor-not-allowed opacity-60" : "cursor-pointer"}`}>
      <input type="checkbox" name={name} checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} className="mt-0.5 h-4 w-4 shrink-0 rounded border-zinc-300 accent-indigo-600" />
      <span>
        {label}
        {hint && <span className="block text-xs text-zinc-500">{hint}</span>}
      </span>
    </label>
  );
}

/** One choice of a radio group, with a one-line explanation, or the engine's reason when it is disabled. */
export function RadioOption({ name, value, checked, onChange, disabled, title, explain, reason }: { name: string; value: string; checked: boolean; onChange: (v: string) => void; disabled?: boolean; title: ReactNode; explain: ReactNode; reason?: string | null }) {
  return (
    <label
      className={`flex items-start gap-2.5 rounded-md px-2.5 py-2 text-sm ring-1 ring-inset ${checked ? "bg-indigo-50 ring-indigo-300 dark:bg-indigo-950/40 dark:ring-indigo-800" : "ring-zinc-200 dark:ring-zinc-800"} ${disabled ? "cursor-not-allowed opacity-60" : "cursor-pointer hover:bg-zinc-50 dark:hover:bg-zinc-800/50"}`}
    >
      <input type="radio" name={name} value={value} checked={checked} disabled={disabled} onChange={() => onChange(value)} className="mt-0.5 h-4 w-4 shrink-0 accent-indigo-600" />
      <span className="min-w-0">
        <span className="font-medium">{title}</span>
        <span className="block text-xs text-zinc-600 dark:text-zinc-400">{explain}</span>
        {reason && <span className="mt-0.5 block text-xs text-amber-700 dark:text-amber-400">Not available: {reason}</span>}
      </span>
    </label>
  );
}
