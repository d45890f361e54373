import { lookup } from "node:dns/promises";
import net from "node:net";
import { AppError } from "@/lib/core/errors";
import type { AdminState } from "@/lib/core/rules";
import { sleep } from "@/lib/process/sleep";

/**
 * Clients for HAProxy's two command sockets:
 * - the admin runtime socket of the current worker (`stats socket ... level admin`),
 * - the master CLI (`haproxy -W -S <path>`): `show proc`, `reload`.
 *
 * Protocol (non-interactive mode): connect, write one line, half-close, read until
 * HAProxy closes. Several commands may share a line separated by ';'. Every name
 * sent is checked against a strict pattern first, so nothing can smuggle in a second
 * command.
 */

const PROXY_OR_SERVER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
const ADDRESS = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/;
const KEYWORD = /^[A-Za-z0-9_.()-]{1,64}$/;

function assertToken(what: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new AppError("bad_request", `invalid ${what} for the haproxy runtime API: ${JSON.stringify(value)}`);
  return value;
}

/**
 * HAProxy 2.6's runtime API wants an IP address for a dynamic server: a name (a container
 * on a Docker bridge network, reached by its name) is accepted by `add server` but never
 * resolved, and its checks fail with "Socket error". So a name is resolved here, as HAProxy's
 * own config parser resolves the names of the config file when it loads it.
 */
async function numericHost(host: string): Promise<string> {
  if (net.isIP(host)) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch (e) {
    throw new AppError("engine_error", `haproxy: cannot resolve ${host} for the runtime API: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** An error answer of the runtime API; "No such server/backend" becomes not_found. */
function cliError(command: string, answer: string): AppError {
  return new AppError(/No such (server|backend)/i.test(answer) ? "not_found" : "engine_error", `haproxy: ${command}: ${answer}`);
}

/** Sends one command line and returns everything HAProxy writes before it closes. */
export function sendCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  if (/[\r\n]/.test(command)) return Promise.reject(new AppError("bad_request", "a haproxy command must be a single line"));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AppError("engine_error", `haproxy socket ${socketPath}: no answer to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => socket.end(`${command}\n`));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new AppError("unavailable", `haproxy socket ${socketPath}: ${e.code ?? e.message}`, { code: e.code }));
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

// ------------------------------------------------------------------ parsers (pure)

export type StatRow = Record<string, string>;

/** Parses `show stat` CSV ("# pxname,svname,..." header, one row a proxy or server). */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) return [];
  const columns = header.slice(2).split(",");
  const rows: StatRow[] = [];
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const cells = line.split(",");
    const row: StatRow = {};
    columns.forEach((c, i) => {
      if (c) row[c] = cells[i] ?? "";
    });
    rows.push(row);
  }
  return rows;
}

export type ProcEntry = { pid: number; type: string; reloads: number };
export type ProcInfo = {
  master: ProcEntry & { failedReloads: number };
  /** current workers (the newest first) */
  workers: ProcEntry[];
  /** workers left from previous reloads, finishing their connections */
  oldWorkers: ProcEntry[];
};

/**
 * Parses the master CLI's `show proc` (HAProxy 2.6):
 *   #<PID> <type> <reloads> <uptime> <version>
 *   1162   master 5 [failed: 0] 0d00h01m07s 2.6.12
 *   # workers
 *   1271   worker 0 0d00h00m00s 2.6.12
 *   # old workers
 *   1233   worker 1 ...
 * After a failed reload, the master's failed count grows and the old worker, its
 * reload count now above 0, stays listed under "# workers".
 */
export function parseShowProc(text: string): ProcInfo {
  let section: "master" | "workers" | "old" | "other" = "master";
  let master: ProcInfo["master"] | null = null;
  const workers: ProcEntry[] = [];
  const oldWorkers: ProcEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      if (/^# workers/.test(line)) section = "workers";
      else if (/^# old workers/.test(line)) section = "old";
      else if (/^# programs/.test(line)) section = "other";
      continue;
    }
    const m = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (!m) continue;
    const entry = { pid: Number(m[1]), type: m[2], reloads: Number(m[3]) };
    if (entry.type === "master") master = { ...entry, failedReloads: Number(m[4] ?? 0) };
    else if (section === "workers") workers.push(entry);
    else if (section === "old") oldWorkers.push(entry);
  }
  if (!master) throw new AppError("engine_error", `unexpected "show proc" answer from the haproxy master: ${text.slice(0, 200)}`);
  return { master, workers, oldWorkers };
}

/** Parses `show info` ("Name: value" lines). */
export function parseShowInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export type ServerStateKey = { backend: string; server: string; address: string; port: number };

/**
 * Keeps from a `show servers state` dump only the servers `keep` says to keep (by
 * backend, name and address). HAProxy restores a server's address from the state
 * file, so a line for a name whose address changed must not survive a reload.
 */
export function filterServersState(dump: string, keep: (s: ServerStateKey) => boolean): string {
  const lines = dump.split("\n");
  const header = lines.find((l) => l.startsWith("# be_id"));
  if (!header) return dump;
  const cols = header.slice(2).trim().split(/\s+/);
  const at = (name: string) => cols.indexOf(name);
  const [iBe, iSrv, iAddr, iPort] = [at("be_name"), at("srv_name"), at("srv_addr"), at("srv_port")];
  const out: string[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#") || /^\d+$/.test(line.trim())) {
      out.push(line);
      continue;
    }
    const f = line.trim().split(/\s+/);
    if (keep({ backend: f[iBe], server: f[iSrv], address: f[iAddr], port: Number(f[iPort]) })) out.push(line);
  }
  return out.join("\n");
}

// ------------------------------------------------------------------ clients

/** Admin runtime socket of the current worker. */
export class HaproxyRuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  command(cmd: string): Promise<string> {
    return sendCommand(this.socketPath, cmd, this.timeoutMs);
  }

  /** Runs commands that answer nothing on success; throws with HAProxy's text otherwise. */
  async run(...cmds: string[]): Promise<void> {
    const answer = (await this.command(cmds.join("; "))).trim();
    if (answer !== "") throw cliError(cmds.join("; "), answer);
  }

  async showStat(): Promise<StatRow[]> {
    return parseShowStat(await this.command("show stat"));
  }

  async showInfo(): Promise<Record<string, string>> {
    return parseShowInfo(await this.command("show info"));
  }

  showServersState(): Promise<string> {
    return this.command("show servers state");
  }

  /**
   * `add server` (it starts in MAINT), then `enable health` and, unless the wanted
   * state is maint, `enable server`; drain is set after. `keywords` must carry every
   * check parameter: dynamic servers do not inherit `default-server`.
   */
  async addServer(backend: string, server: string, address: string, keywords: string[], state: AdminState = "ready"): Promise<void> {
    const id = `${assertToken("backend", backend, PROXY_OR_SERVER)}/${assertToken("server", server, PROXY_OR_SERVER)}`;
    assertToken("address", address, ADDRESS);
    const words = keywords.flatMap((k) => k.split(" ")).map((w) => assertToken("server keyword", w, KEYWORD));
    const colon = address.lastIndexOf(":");
    const numeric = `${await numericHost(address.slice(0, colon))}${address.slice(colon)}`;
    const answer = (await this.command(`add server ${id} ${numeric} ${words.join(" ")}`)).trim();
    if (!/New server registered/i.test(answer)) throw cliError(`add server ${id}`, answer);
    const then = [`enable health ${id}`];
    if (state !== "maint") then.push(`enable server ${id}`);
    if (state === "drain") then.push(`set server ${id} state drain`);
    await this.run(...then);
  }

  /** Enables dynamic cookies of a backend (needed after `add server` with `cookie ... dynamic`). */
  enableDynamicCookie(backend: string): Promise<void> {
    return this.run(`enable dynamic-cookie backend ${assertToken("backend", backend, PROXY_OR_SERVER)}`);
  }

  setState(backend: string, server: string, state: AdminState): Promise<void> {
    return this.run(`set server ${this.id(backend, server)} state ${state}`);
  }

  /** `set server B/S addr IP port P`: HAProxy answers what it changed ("IP changed from ..."), or "no need to change". */
  async setAddress(backend: string, server: string, host: string, port: number): Promise<void> {
    assertToken("address", `${host}:${port}`, ADDRESS);
    const cmd = `set server ${this.id(backend, server)} addr ${await numericHost(host)} port ${port}`;
    const answer = (await this.command(cmd)).trim();
    if (answer !== "" && !/changed from|no need to change/i.test(answer)) throw cliError(cmd, answer);
  }

  setWeight(backend: string, server: string, weight: number): Promise<void> {
    if (!Number.isInteger(weight) || weight < 0 || weight > 256) throw new AppError("bad_request", `invalid weight ${weight}`);
    return this.run(`set server ${this.id(backend, server)} weight ${weight}`);
  }

  /**
   * MAINT, wait until the server has no current session, then `del server`, retrying
   * while HAProxy says it still has connections; after `timeoutMs` the remaining
   * sessions are shut down so the deletion can finish.
   */
  async delServer(backend: string, server: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
    const id = this.id(backend, server);
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    const poll = opts.pollMs ?? 100;
    try {
      await this.run(`set server ${id} state maint`);
    } catch (e) {
      if (e instanceof AppError && e.code === "not_found" && /no such server/i.test(e.message)) return; // already gone
      throw e;
    }
    let forced = false;
    for (;;) {
      const row = (await this.showStat()).find((r) => r.pxname === backend && r.svname === server);
      if (!row) return; // already gone
      if (Number(row.scur || 0) === 0 || forced) {
        const answer = (await this.command(`del server ${id}`)).trim();
        if (/Server deleted/i.test(answer) || /No such server/i.test(answer)) return;
        if (!/still has connections|connection queue/i.test(answer)) throw new AppError("engine_error", `haproxy: del server ${id}: ${answer}`);
      }
      if (Date.now() > deadline) {
        if (forced && Date.now() > deadline + 5000) throw new AppError("engine_error", `haproxy: del server ${id}: still has connections after ${opts.timeoutMs ?? 10_000} ms`);
        if (!forced) {
          await this.run(`shutdown sessions server ${id}`);
          forced = true;
        }
      }
      await sleep(poll);
    }
  }

  private id(backend: string, server: string): string {
    return `${assertToken("backend", backend, PROXY_OR_SERVER)}/${assertToken("server", server, PROXY_OR_SERVER)}`;
  }
}

/** Master CLI (`-S` socket): process list and reload. */
export class HaproxyMasterApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  async showProc(): Promise<ProcInfo> {
    return parseShowProc(await sendCommand(this.socketPath, "show proc", this.timeoutMs));
  }

  /** Asks the master to re-exec with the config file. HAProxy 2.6 answers nothing (and may reset the connection): check `show proc`. */
  async reload(): Promise<void> {
    try {
      await sendCommand(this.socketPath, "reload", this.timeoutMs);
    } catch (e) {
      // The master re-execs and drops the connection; a reset here is the normal case.
      if (!(e instanceof AppError && (e.details as { code?: string } | undefined)?.code === "ECONNRESET")) throw e;
    }
  }
}
