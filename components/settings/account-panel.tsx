"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";

/** Every user's own account: who they are, and their password (the current one required; other sessions end). */
export function AccountPanel({ username, role, isAdmin }: { username: string; role: string; isAdmin: boolean }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setMessage(null);
    if (next !== repeat) return setMessage({ tone: "error", text: "The new passwords do not match." });
    setBusy(true);
    try {
      const out = await api<{ endedSessions: number }>("/api/account/password", { body: { currentPassword: current, newPassword: next } });
      setCurrent("");
      setNext("");
      setRepeat("");
      const ended = out.endedSessions;
      setMessage({ tone: "success", text: `Password changed.${ended ? ` ${ended} other session${ended === 1 ? "" : "s"} signed out.` : ""}` });
    } catch (err) {
      setMessage({ tone: "error", text: err instanceof ApiError ? err.message : "Cannot reach the panel." });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Your account">
      <div className="space-y-4">
        <p className="text-sm">
          You are signed in as <strong data-testid="account-name">{username}</strong> with the <strong>{role}</strong> role.
          {isAdmin ? "" : " Only an admin can manage users."}
        </p>
        <form onSubmit={submit} className="grid max-w-xl grid-cols-1 gap-3 sm:grid-cols-2" aria-label="Change your password">
          {/* the user name, hidden, so a password manager files the new password under the right account */}
          <input type="text" name="username" autoComplete="username" value={username} readOnly hidden />
          <div className="sm:col-span-2">
            <Field label="Current password">
              <Input name="account-current-password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
            </Field>
          </div>
          <Field label="New password" hint="At least 10 characters.">
            <Input name="account-new-password" type="password" autoComplete="new-password" minLength={10} maxLength={200} value={next} onChange={(e) => setNext(e.target.value)} required />
          </Field>
          <Field label="Repeat the new password">
            <Input name="account-repeat-password" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
          </Field>
          <div className="flex flex-wrap items-center gap-3 sm:col-span-2">
            <Button type="submit" disabled={busy}>
              {busy ? "Changing…" : "Change password"}
            </Button>
            <span className="text-xs text-zinc-600 dark:text-zinc-400">Your other sessions (other browsers, other devices) are signed out.</span>
          </div>
          {message && (
            <div className="sm:col-span-2">
              <Alert tone={message.tone}>{message.text}</Alert>
            </div>
          )}
        </form>
      </div>
    </Card>
  );
}
