import { z } from "zod";
import { roles } from "@/lib/core/roles";

export const usernameSchema = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9_.-]{3,32}$/, "3-32 characters: letters, digits, '_', '.', '-'");

export const passwordSchema = z
  .string()
  .min(10, "at least 10 characters")
  .max(200, "at most 200 characters");

export const credentialsSchema = z.object({ username: usernameSchema, password: z.string().min(1).max(200) }).strict();
export const setupSchema = z.object({ username: usernameSchema, password: passwordSchema }).strict();
export const createUserSchema = z.object({ username: usernameSchema, password: passwordSchema, role: z.enum(roles) }).strict();
export const updateUserSchema = z
  .object({ role: z.enum(roles).optional(), password: passwordSchema.optional() })
  .strict()
  .refine((v) => v.role !== undefined || v.password !== undefined, "give a role or a password");

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

/** A signed-in user as sign-in, setup and GET /api/auth/me return it. */
export const sessionUserSchema = z.object({ id: z.string(), username: z.string(), role: z.enum(roles) });
/** A user as the users API lists it (lib/services/manage-users.ts UserView). */
export const userViewSchema = z.object({ id: z.string(), username: z.string(), role: z.string(), createdAt: z.string() });
