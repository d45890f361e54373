"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Field, Input, Select } from "@/components/ui/field";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";

type User = { id: string; username: string; role: string; createdAt: string };

export function UsersPanel({ initial, currentUserId }: { initial: User[]; currentUserId: string }) {
  const [users, setUsers] = useState(initial);
  const [form, setForm] = useState({ username: "", password: "", role: "viewer" });
  const [message, setMessage] = useState<{ tone: "error" | "success"; text: string } | null>(null);

  const refresh = async () => setUsers((await api<{ users: User[] }>("/api/users")).users);
  const run = async (fn: () => Promise<unknown>, ok: string) => {
    setMessage(null);
    try {
      await fn();
      await refresh();
      setMessage({ tone: "success", text: ok });
    } catch (e) {
      setMessage({ tone: "error", text: e instanceof ApiError ? e.message : String(e) });
    }
  };

  return (
    <div className="space-y-6">
      <Card title="Users">
        {/* on a phone the table scrolls inside its card, not the page */}
        <div className="overflow-x-auto">
          <table className="w-full min-w-[26rem] text-sm">
            <thead className="text-left text-xs text-zinc-500">
              <tr>
                <th className="pb-2">User</th>
                <th className="pb-2">Role</th>
                <th className="pb-2">Since</th>
                <th className="pb-2 text-right">Actions</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
              {users.map((u) => (
                <tr key={u.id} data-testid={`user-row-${u.username}`}>
                  <td className="py-2 font-medium">
                    {u.username} {u.id === currentUserId && <span className="text-xs text-zinc-500">(you)</span>}
                  </td>
                  <td className="py-2 pr-2">
                    <Select
                      aria-label={`role of ${u.username}`}
                      value={u.role}
                      className="w-32"
                      onChange={(e) => run(() => api(`/api/users/${u.id}`, { method: "PATCH", body: { role: e.target.value } }), `${u.username} is now ${e.target.value}`)}
                    >
                      <option value="viewer">viewer</option>
                      <option value="operator">operator</option>
                      <option value="admin">admin</option>
                    </Select>
                  </td>
                  <td className="py-2 pr-2 whitespace-nowrap text-zinc-500">{new Date(u.createdAt).toLocaleDateString()}</td>
                  <td className="py-2 text-right space-x-2">
                    <Button
                      variant="secondary"
                      size="sm"
                      onClick={() => {
                        const password = window.prompt(`New password for ${u.username} (at least 10 characters)`);
                        if (password) void run(() => api(`/api/users/${u.id}`, { method: "PATCH", body: { password } }), `password of ${u.username} reset; their sessions were ended`);
                      }}
                    >
                      Reset password
                    </Button>
                    {u.id !== currentUserId && (
                      <Button
                        variant="danger"
                        size="sm"
                        onClick={() => {
                          if (window.confirm(`Delete user ${u.username}?`)) void run(() => api(`/api/users/${u.id}`, { method: "DELETE" }), `${u.username} deleted`);
                        }}
                      >
                        Delete
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
      <Card title="Add a user">
        <form
          className="grid gap-3 sm:grid-cols-4 sm:items-end"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              await api("/api/users", { body: form });
              setForm({ username: "", password: "", role: "viewer" });
            }, `user ${form.username} added`);
          }}
        >
          <Field label="User name">
            <Input name="new-username" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} required />
          </Field>
          <Field label="Password">
            <Input name="new-password" type="password" autoComplete="new-password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} required />
          </Field>
          <Field label="Role">
            <Select name="new-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
              <option value="viewer">viewer — sees everything but secrets (env values, commands), changes nothing</option>
              <option value="operator">operator — scales, applies rules, acts on replicas, runs what an admin allowed</option>
              <option value="admin">admin — everything, and manages users</option>
            </Select>
          </Field>
          <Button type="submit">Add user</Button>
        </form>
      </Card>
      {message && <Alert tone={message.tone}>{message.text}</Alert>}
    </div>
  );
}
