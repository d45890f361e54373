import { AppError } from "@/lib/core/errors";
import type { Role } from "@/lib/core/roles";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { hashPassword } from "@/lib/auth/password";
import { endSessionsOf, type SessionUser } from "@/lib/auth/sessions";

export type UserView = { id: string; username: string; role: string; createdAt: string };

const view = (u: { id: string; username: string; role: string; createdAt: Date }): UserView => ({
  id: u.id,
  username: u.username,
  role: u.role,
  createdAt: u.createdAt.toISOString(),
});

export async function listUsers(): Promise<UserView[]> {
  const users = await db().user.findMany({ orderBy: { createdAt: "asc" } });
  return users.map(view);
}

export async function createUser(input: { username: string; password: string; role: Role }, actor: SessionUser) {
  if (await db().user.findUnique({ where: { username: input.username } })) throw new AppError("conflict", `user ${input.username} already exists`);
  const user = await db().user.create({ data: { username: input.username, passwordHash: await hashPassword(input.password), role: input.role } });
  await recordEvent({ kind: "user.created", actor: actor.username, message: `${actor.username} added user ${user.username} (${user.role})` });
  return view(user);
}

async function adminCount(): Promise<number> {
  return db().user.count({ where: { role: "admin" } });
}

export async function updateUser(id: string, input: { role?: Role; password?: string }, actor: SessionUser) {
  const user = await db().user.findUnique({ where: { id } });
  if (!user) throw new AppError("not_found", "no such user");
  if (input.role && input.role !== "admin" && user.role === "admin" && (await adminCount()) <= 1) {
    throw new AppError("conflict", "this is the last admin; make another admin first");
  }
  const data: { role?: string; passwordHash?: string } = {};
  if (input.role) data.role = input.role;
  if (input.password) data.passwordHash = await hashPassword(input.password);
  const updated = await db().user.update({ where: { id }, data });
  if (input.password || (input.role && input.role !== user.role)) await endSessionsOf(id);
  const changes = [input.role && input.role !== user.role ? `role ${user.role} → ${input.role}` : null, input.password ? "password reset" : null].filter(Boolean);
  await recordEvent({ kind: "user.updated", actor: actor.username, message: `${actor.username} changed ${user.username}: ${changes.join(", ") || "no change"}` });
  return view(updated);
}

export async function deleteUser(id: string, actor: SessionUser) {
  const user = await db().user.findUnique({ where: { id } });
  if (!user) throw new AppError("not_found", "no such user");
  if (user.id === actor.id) throw new AppError("conflict", "you cannot delete yourself");
  if (user.role === "admin" && (await adminCount()) <= 1) throw new AppError("conflict", "this is the last admin");
  await endSessionsOf(id); // (the rows would go with the user; this also closes the user's sockets)
  await db().user.delete({ where: { id } });
  await recordEvent({ kind: "user.deleted", actor: actor.username, message: `${actor.username} deleted user ${user.username}` });
  return { ok: true };
}
