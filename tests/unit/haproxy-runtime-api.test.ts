import { describe, expect, it } from "vitest";
import { filterServersState, parseShowInfo, parseShowProc, parseShowStat } from "@/lib/engines/haproxy/runtime-api";
import { healthReasonOf, healthStatusOf, serverStatsOf } from "@/lib/engines/haproxy/stats";

// Answers captured from HAProxy 2.6.12 (columns trimmed where the parser does not care).
const showProc = `#<PID>          <type>          <reloads>       <uptime>        <version>
7763            master          4 [failed: 1]   0d00h00m36s     2.6.12-1+deb12u4
# workers
8531            worker          1               0d00h00m08s     2.6.12-1+deb12u4
# old workers
8287            worker          2               0d00h00m20s     2.6.12-1+deb12u4
# programs

`;

const showStat = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,
fe_main,FRONTEND,,,0,3,4096,120,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,5,,,,0,118,0,2,0,0,,0,5,120,,,0,0,0,0,,,,,,,,
be_web,r-a1,0,0,2,5,,70,0,0,,0,,1,0,3,1,UP,1,1,0,0,0,42,0,,1,3,1,,70,,2,0,,4,L7OK,200,1,0,68,0,1,1,0,,,,,0,0,,,,,0,HTTP status check returned code <3C>200<3E>,,0,0,3,4,
be_web,r-b2,0,0,0,2,,50,0,0,,0,,0,0,0,0,DOWN,1,1,0,2,1,7,7,,1,3,2,,50,,2,0,,3,L7STS,503,1,0,45,0,0,5,0,,,,,0,0,,,,,2,HTTP status check returned code <3C>503<3E>,,0,0,5,6,
be_web,r-c3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,9,9,,1,3,3,,0,,2,0,,0,* L4CON,,0,0,0,0,0,0,0,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,
be_web,BACKEND,0,0,2,5,,120,0,0,0,0,,1,0,3,1,UP,2,2,0,,0,42,0,,1,3,0,,120,,1,0,,5,,,,0,113,0,1,6,0,,,,120,0,0,0,0,0,0,0,,,0,0,3,4,
noroute,BACKEND,0,0,0,0,,0,0,0,0,0,,0,0,0,0,UP,0,0,0,,0,42,,,1,4,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,-1,,,0,0,0,0,
`;

describe("haproxy runtime answers", () => {
  it("parses show proc, including a failed reload", () => {
    const p = parseShowProc(showProc);
    expect(p.master).toEqual({ pid: 7763, type: "master", reloads: 4, failedReloads: 1 });
    expect(p.workers).toEqual([{ pid: 8531, type: "worker", reloads: 1 }]);
    expect(p.oldWorkers).toEqual([{ pid: 8287, type: "worker", reloads: 2 }]);
  });

  it("refuses a show proc answer without a master line", () => {
    expect(() => parseShowProc("Unknown command.\n")).toThrow(/show proc/);
  });

  it("parses show stat CSV by header name", () => {
    const rows = parseShowStat(showStat);
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatchObject({ pxname: "be_web", svname: "r-a1", stot: "70", status: "UP", check_status: "L7OK" });
  });

  it("parses show info", () => {
    expect(parseShowInfo("Name: HAProxy\nVersion: 2.6.12\nPid: 8531\n")).toMatchObject({ Pid: "8531", Version: "2.6.12" });
  });

  it("maps show stat rows to ServerStats of service backends only", () => {
    const stats = serverStatsOf(parseShowStat(showStat));
    expect(stats.map((s) => s.server)).toEqual(["r-a1", "r-b2", "r-c3"]);
    expect(stats[0]).toEqual({
      service: "web",
      server: "r-a1",
      totalRequests: 70,
      activeConnections: 2,
      responses: { "1xx": 0, "2xx": 68, "3xx": 0, "4xx": 1, "5xx": 1, other: 0 },
      connectionErrors: 1,
      retries: 3,
      redispatches: 1,
      avgResponseMs: 3,
      health: { status: "up", reason: "L7OK 200: HTTP status check returned code <3C>200<3E>", lastChangeMs: 42_000 },
      // the stats table's figures (issue 12, item 3)
      maxSessions: 5,
      sessionLimit: null,
      queueCurrent: 0,
      queueMax: 0,
      bytesIn: 0,
      bytesOut: 0,
      downtimeS: 0,
      weight: 1,
      adminState: "ready",
      check: { durationMs: 1, failures: 0, downTransitions: 0 },
    });
    expect(stats[1]).toMatchObject({ downtimeS: 7, check: { durationMs: 1, failures: 2, downTransitions: 1 }, adminState: "ready" });
    expect(stats[2]).toMatchObject({ adminState: "maint", check: { durationMs: 0 } });
    expect(stats[1].health).toMatchObject({ status: "down", reason: "L7STS 503: HTTP status check returned code <3C>503<3E>" });
    expect(stats[2].health).toMatchObject({ status: "maint", reason: "L4CON: Connection refused" });
  });

  it("maps every status HAProxy prints", () => {
    expect(["UP", "UP 1/2", "DOWN", "DOWN 1/2", "MAINT", "MAINT (via be/x)", "DRAIN", "NOLB", "no check", "?"].map(healthStatusOf)).toEqual([
      "up",
      "up",
      "down",
      "down",
      "maint",
      "maint",
      "drain",
      "drain",
      "nocheck",
      "unknown",
    ]);
    expect(healthReasonOf({ check_status: "" })).toBeNull();
  });

  it("keeps a server's last check code while a check is under way (HAProxy shows 0 then)", () => {
    const row = (code: string) => ({ pxname: "be_web", svname: "r-code1", status: "UP", check_status: "L7OK", check_code: code, stot: "0", scur: "0" });
    const reasons = ["200", "0", "200", "0"].map((c) => serverStatsOf([row(c)])[0].health.reason);
    expect(reasons).toEqual(["L7OK 200", "L7OK 200", "L7OK 200", "L7OK 200"]);
    expect(serverStatsOf([{ ...row("0"), svname: "r-code2" }])[0].health.reason).toBe("L7OK 0"); // no code seen yet
    expect(serverStatsOf([{ ...row("503"), check_status: "L7STS" }])[0].health.reason).toBe("L7STS 503");
  });

  it("drops state-file lines whose server is gone or moved", () => {
    const dump = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
4 be_web 1 r-x0 127.0.0.1 2 8 1 1 1 15 3 3 6 0 0 0 - 21450 - 0 0 - - 0
4 be_web 2 r-x1 127.0.0.1 2 0 5 0 19 15 3 3 6 0 0 0 - 21451 - 0 0 - - 0
5 be_rr 1 r-x2 127.0.0.1 2 0 1 1 19 6 3 3 6 0 0 0 - 21452 - 0 0 - - 0
`;
    const kept = filterServersState(dump, (k) => k.backend === "be_web" && !(k.server === "r-x1" && k.port !== 30000));
    expect(kept.split("\n").filter((l) => /^\d+ be_/.test(l))).toEqual([
      "4 be_web 1 r-x0 127.0.0.1 2 8 1 1 1 15 3 3 6 0 0 0 - 21450 - 0 0 - - 0",
    ]);
    expect(kept.startsWith("1\n# be_id")).toBe(true);
  });
});
