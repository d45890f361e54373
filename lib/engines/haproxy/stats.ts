import type { AdminState } from "@/lib/core/rules";
import type { ServerHealth, ServerStats } from "@/lib/engines/types";
import { serviceNameOfBackend } from "@/lib/engines/haproxy/render";
import type { StatRow } from "@/lib/engines/haproxy/runtime-api";

/** Pure mapping from `show stat` rows to the engine-neutral ServerStats. */

const num = (v: string | undefined): number => {
  const n = Number(v);
  return v === undefined || v === "" || !Number.isFinite(n) ? 0 : n;
};

/** "UP", "UP 1/2", "DOWN 1/2", "MAINT", "MAINT (via be/x)", "DRAIN", "NOLB", "no check" -> status. */
export function healthStatusOf(status: string): ServerHealth["status"] {
  const s = status.trim().toUpperCase();
  if (s.startsWith("MAINT")) return "maint";
  if (s.startsWith("DRAIN") || s.startsWith("NOLB")) return "drain";
  if (s.startsWith("UP")) return "up";
  if (s.startsWith("DOWN")) return "down";
  if (s === "NO CHECK") return "nocheck";
  return "unknown";
}

/**
 * "L7STS 503: <last_chk text>" style reason from check_status, check_code and last_chk.
 * `lastCode` is the code this server's previous row gave: while a check is under way HAProxy
 * shows check_code 0 beside the last check's status, so without it the reason flipped
 * between "L7OK 200" and "L7OK 0" from one second to the next, and the collector stored each
 * flip (a database write, and a re-read of every service and replica, issue 18).
 */
export function healthReasonOf(row: StatRow, lastCode?: string): string | null {
  const status = (row.check_status ?? "").replace(/^\* ?/, "");
  if (!status) return null;
  const checkCode = row.check_code === "0" && lastCode ? lastCode : row.check_code;
  const code = checkCode ? ` ${checkCode}` : "";
  const detail = row.last_chk ? `: ${row.last_chk}` : "";
  return `${status}${code}${detail}`;
}

/** A cell that may be empty in `show stat` (e.g. slim without a limit, check_duration before the first check): null then. */
const numOrNull = (v: string | undefined): number | null => (v === undefined || v.trim() === "" || !Number.isFinite(Number(v)) ? null : Number(v));

/** "MAINT", "MAINT (via ...)", "DRAIN", "NOLB" -> the admin state; anything else is ready. */
export function adminStateOf(status: string): AdminState {
  const s = status.trim().toUpperCase();
  if (s.startsWith("MAINT")) return "maint";
  if (s.startsWith("DRAIN") || s.startsWith("NOLB")) return "drain";
  return "ready";
}

/** The stats-table figures `show stat` has for a server (HAProxy has every one). */
export function tableFieldsOf(row: StatRow): Partial<ServerStats> {
  return {
    maxSessions: num(row.smax),
    sessionLimit: numOrNull(row.slim),
    queueCurrent: num(row.qcur),
    queueMax: num(row.qmax),
    bytesIn: num(row.bin),
    bytesOut: num(row.bout),
    downtimeS: num(row.downtime),
    weight: num(row.weight),
    adminState: adminStateOf(row.status ?? ""),
    check: { durationMs: numOrNull(row.check_duration), failures: numOrNull(row.chkfail), downTransitions: numOrNull(row.chkdown) },
  };
}

/**
 * each server's last check code other than 0 (healthReasonOf), by backend/server; the panel's
 * engine and each Swarm service's balancer both come here, so entries are not replaced per
 * call; a bound instead of pruning (a few hundred servers at most in practice)
 */
const lastCodes = new Map<string, string>();
const MAX_CODES = 4096;

export function serverStatsOf(rows: StatRow[]): ServerStats[] {
  const out: ServerStats[] = [];
  if (lastCodes.size > MAX_CODES) lastCodes.clear();
  for (const row of rows) {
    const service = serviceNameOfBackend(row.pxname ?? "");
    if (service === null || row.svname === "BACKEND" || row.svname === "FRONTEND") continue;
    const key = `${row.pxname}/${row.svname}`;
    const lastCode = lastCodes.get(key);
    const code = row.check_code && row.check_code !== "0" ? row.check_code : lastCode;
    if (code && code !== lastCode) lastCodes.set(key, code);
    const lastchg = row.lastchg === "" || row.lastchg === undefined ? null : num(row.lastchg) * 1000;
    const stats: ServerStats = {
      service,
      server: row.svname,
      totalRequests: num(row.stot),
      activeConnections: num(row.scur),
      responses: {
        "1xx": num(row.hrsp_1xx),
        "2xx": num(row.hrsp_2xx),
        "3xx": num(row.hrsp_3xx),
        "4xx": num(row.hrsp_4xx),
        "5xx": num(row.hrsp_5xx),
        other: num(row.hrsp_other),
      },
      connectionErrors: num(row.econ),
      retries: num(row.wretr),
      redispatches: num(row.wredis),
      health: { status: healthStatusOf(row.status ?? ""), reason: healthReasonOf(row, lastCode), lastChangeMs: lastchg },
    };
    if (row.rtime !== undefined && row.rtime !== "") stats.avgResponseMs = num(row.rtime);
    Object.assign(stats, tableFieldsOf(row));
    out.push(stats);
  }
  return out;
}
