/**
 * Which user a replica container runs as. Docker replicas run as the image's own user
 * when that is not root (the bundled image says USER 65534:65534); an image that runs
 * as root (no USER, "root", "0", "0:…") gets nobody, 65534:65534, unless an admin
 * allowed root for that service.
 */

export const NOBODY = "65534:65534";

/** Does a Docker `User` value (name or uid, optionally ":group") run as root? Empty means the image default, root. */
export function isRootUser(user: string | null | undefined): boolean {
  const who = (user ?? "").trim().split(":")[0];
  return who === "" || who === "root" || /^0+$/.test(who);
}

/** The `User` to create the container with: undefined keeps the image's own (non-root, or root allowed). */
export function containerUser(imageUser: string | null | undefined, allowRoot: boolean): string | undefined {
  return isRootUser(imageUser) && !allowRoot ? NOBODY : undefined;
}
