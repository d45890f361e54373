/**
 * lib/mgmt/direct-request.ts against a real loopback server: one of a service's own
 * actions goes to exactly the address given, with the method and body declared; the
 * answer is read with a limit; a silent instance times out; a redirect is not followed.
 *
 * Ports 28598-28599 (docs/TESTING.md: the user-app row).
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIRECT_LIMITS, sendDirect } from "@/lib/mgmt/direct-request";
import type { ServiceAction } from "@/lib/core/service";

const PORT = 28598;
const ADDR = `127.0.0.1:${PORT}`;
const seen: { method?: string; url?: string; type?: string; body: string; auth?: string }[] = [];

describe("a direct request to one instance", () => {
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, type: req.headers["content-type"], body, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
        if (req.url === "/big") return res.end("y".repeat(1024 * 1024));
        if (req.url === "/silent") return; // never answers
        if (req.url === "/redirect") {
          res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
          return res.end("moved");
        }
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ echo: body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(PORT, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const action = (over: Partial<ServiceAction>): ServiceAction => ({ name: "A", method: "POST", path: "/x", port: "data", ...over });

  it("sends the declared method, path and JSON body, and hands back any status as it is", async () => {
    const r = await sendDirect(ADDR, action({ method: "PUT", path: "/api/x?y=1", body: { mb: 5 } }));
    expect(seen.at(-1)).toEqual({ method: "PUT", url: "/api/x?y=1", type: "application/json", body: '{"mb":5}' });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ echo: '{"mb":5}' });
    expect(r.truncated).toBe(false);
    await sendDirect(ADDR, action({ body: "plain" }));
    expect(seen.at(-1)?.type).toBe("text/plain; charset=utf-8");
    expect(seen.at(-1)?.auth).toBeUndefined();
    await sendDirect(ADDR, action({ port: "admin" }), { token: "t0ken" });
    expect(seen.at(-1)?.auth).toBe("Bearer t0ken");
  });

  it(`keeps the first ${DIRECT_LIMITS.bodyBytes} bytes of a long answer and says it was cut`, async () => {
    const r = await sendDirect(ADDR, action({ method: "GET", path: "/big" }));
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(DIRECT_LIMITS.bodyBytes);
    expect(r.truncated).toBe(true);
  });

  it("does not follow a redirect", async () => {
    const r = await sendDirect(ADDR, action({ method: "GET", path: "/redirect" }));
    expect(r.status).toBe(302);
    expect(r.body).toBe("moved");
  });

  it("times out on a silent instance and says so; a closed port is 'connection refused'", async () => {
    await expect(sendDirect(ADDR, action({ method: "GET", path: "/silent" }), { timeoutMs: 300 })).rejects.toThrow(/GET \/silent failed: timeout after 300 ms/);
    await expect(sendDirect("127.0.0.1:28599", action({}))).rejects.toThrow(/connection refused/);
  });
});
