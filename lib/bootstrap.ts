import { env } from "@/lib/env";
import { db } from "@/lib/db/client";
import { hasAnyUser, createFirstAdmin } from "@/lib/services/create-first-admin";

/** Things done once per panel start, before it listens. */
export async function bootstrap(): Promise<void> {
  const cfg = env();
  if (cfg.ADMIN_USER && cfg.ADMIN_PASSWORD && !(await hasAnyUser())) {
    await createFirstAdmin({ username: cfg.ADMIN_USER, password: cfg.ADMIN_PASSWORD }, "env");
    console.log(`[switchyard] created the first admin ${cfg.ADMIN_USER} from ADMIN_USER/ADMIN_PASSWORD`);
  }
  // expired sessions
  await db().session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
}

export async function shutdown(): Promise<void> {
  await db().$disconnect();
}
