/**
 * Container names: `sy-<serviceName>-<shortReplicaId>`, lowercase, at most 63
 * characters, so the name is also a valid DNS label on a bridge network (other
 * containers reach a replica by its name there).
 *
 * The short id is the replica id when it has 12 characters or fewer, else its last 8:
 * ids such as cuids begin with a timestamp (replicas created together share their
 * first characters) and end with random characters.
 */
export function containerName(serviceName: string, replicaId: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  const id = clean(replicaId);
  const short = id.length <= 12 ? id : id.slice(-8).replace(/^-+/, "");
  const room = 63 - "sy-".length - 1 - short.length;
  const service = clean(serviceName).slice(0, room).replace(/-+$/, "") || "service";
  return `sy-${service}-${short || "replica"}`;
}
