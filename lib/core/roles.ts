/** Roles, weakest first. Pure: used by server checks and by the UI to hide buttons. */
export const roles = ["viewer", "operator", "admin"] as const;
export type Role = (typeof roles)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === "string" && (roles as readonly string[]).includes(v);
}

/** Does `role` have at least the power of `needed`? */
export function hasRole(role: Role, needed: Role): boolean {
  return roles.indexOf(role) >= roles.indexOf(needed);
}
