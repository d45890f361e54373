import { heapTrim } from "@/lib/process/heap-trim";
import { env } from "@/lib/env";
import { db } from "@/lib/db/client";
import { pruneEvents } from "@/lib/events";
import { hasAnyUser } from "@/lib/auth/users";
import { createFirstAdmin } from "@/lib/services/create-first-admin";
import { ensureDemoService } from "@/lib/services/manage-services";
import { controller } from "@/lib/controller/controller";
import { collector } from "@/lib/controller/collector";
import { provideLiveViews } from "@/lib/services/live-views";
import { prober } from "@/lib/controller/prober";
import { stopAllTraffic } from "@/lib/services/traffic";
import { autoscaleLoop } from "@/lib/autoscale/loop";
import { rolloutRunner } from "@/lib/rollout/runner";
import { alertLoop } from "@/lib/alerts/loop";

/** Things done once per panel start, before it listens. */
export async function bootstrap(): Promise<void> {
  const cfg = env();
  heapTrim().start(); // the panel's RSS: garbage collected before it piles up (lib/process/heap-trim.ts)
  if (cfg.ADMIN_USER && cfg.ADMIN_PASSWORD && !(await hasAnyUser())) {
    await createFirstAdmin({ username: cfg.ADMIN_USER, password: cfg.ADMIN_PASSWORD }, "env");
    console.log(`[switchyard] created the first admin ${cfg.ADMIN_USER} from ADMIN_USER/ADMIN_PASSWORD`);
  }
  // expired sessions, and events past their retention
  await db().session.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  await pruneEvents();
  if (cfg.CONTROLLER) {
    await controller().start();
    provideLiveViews().start();
    prober().start();
    autoscaleLoop().start();
    alertLoop().start();
    // rollouts in progress when the panel stopped go on from their recorded step
    rolloutRunner().start();
    if (cfg.DEMO_SERVICE) {
      await ensureDemoService().catch((e) => console.error(`[switchyard] could not create the demo service: ${e instanceof Error ? e.message : e}`));
    }
  }
}

export async function shutdown(): Promise<void> {
  // the engine and the replicas keep running: the next start adopts them
  stopAllTraffic();
  heapTrim().stop();
  autoscaleLoop().stop();
  alertLoop().stop();
  rolloutRunner().stop();
  collector().stop();
  prober().stop();
  await controller().stop();
  await db().$disconnect();
}
