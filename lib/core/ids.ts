import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Opaque, stable replica id: 10 lower-case alphanumerics, starts with a letter. */
export function newReplicaId(): string {
  const bytes = randomBytes(10);
  let id = ALPHABET[bytes[0] % 26];
  for (let i = 1; i < 10; i++) id += ALPHABET[bytes[i] % 36];
  return id;
}

export function newToken(): string {
  return randomBytes(32).toString("hex");
}
