/**
 * The builtin proxy's active health checks: GET the rule's path on a fresh connection
 * every interval, and move the server up or down by rise and fall (health.ts).
 */
import http from "node:http";
import { checkErrorReason } from "./http-rules";
import { isUp, observeCheck } from "./health";
import type { Log } from "./selection";
import type { ServerRuntime } from "./server-runtime";

type OnChange = ((rt: ServerRuntime) => void) | undefined;

/**
 * The next active check of `rt` in `delayMs` (none once it left the config). `onChange` hears
 * of a result that changed whether the server is up or cleared a passive failure (the
 * primary of several workers tells them: workers.ts).
 */
export function scheduleCheck(rt: ServerRuntime, delayMs: number, log: Log, onChange?: OnChange): void {
  if (rt.removed) return;
  rt.checkTimer = setTimeout(() => runCheck(rt, log, onChange), delayMs);
}

function runCheck(rt: ServerRuntime, log: Log, onChange: OnChange): void {
  if (rt.removed) return;
  const hc = rt.rules.healthCheck;
  const started = Date.now();
  probe(rt.spec.host, rt.spec.port, hc.path, hc.timeoutMs, (status, reason) => {
    if (rt.removed) return;
    const now = Date.now();
    const wasUp = isUp(rt.health);
    const hadPassive = rt.health.passiveDown;
    const live = rt.rules.healthCheck; // may have changed by a reload during the check
    rt.health = observeCheck(rt.health, status === live.expectStatus, reason, now, live.rise, live.fall);
    if (isUp(rt.health) !== wasUp || rt.health.passiveDown !== hadPassive) onChange?.(rt);
    if (isUp(rt.health) !== wasUp) {
      log(`${rt.service.spec.name}/${rt.spec.name} ${isUp(rt.health) ? "UP" : "DOWN"} (${reason})`);
      if (isUp(rt.health)) rt.fails = [];
    }
    rt.refresh(now);
    scheduleCheck(rt, Math.max(0, live.intervalMs - (now - started)), log, onChange);
  });
}

/** One active health check: GET path on a fresh connection. Calls back once with the status (0 on failure) and a reason. */
function probe(host: string, port: number, path: string, timeoutMs: number, done: (status: number, reason: string) => void): void {
  let settled = false;
  const finish = (status: number, reason: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.destroy();
    done(status, reason);
  };
  const req = http.request({ host, port, path, method: "GET", agent: false, headers: { "user-agent": "switchyard-builtin-check", connection: "close" } }, (res) => {
    res.resume();
    finish(res.statusCode ?? 0, `HTTP ${res.statusCode}`);
  });
  req.on("error", (e) => finish(0, checkErrorReason(e)));
  const timer = setTimeout(() => finish(0, "timeout"), timeoutMs);
  req.end();
}
