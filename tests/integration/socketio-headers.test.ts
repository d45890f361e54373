/**
 * socket.io writes its long-polling answers itself, past the headers server.ts sets on
 * every other response (issue 10, Low). attachRealtime on a loopback port; raw HTTP
 * requests of the polling transport (a handshake, and one engine.io refuses) must carry
 * the same security headers and Cache-Control: no-store.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS_POLICY } from "@/lib/security-headers";
import { startRealtime, type RealtimeServer } from "@/tests/helpers/realtime-server";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

let database: TempDatabase | undefined;
let live: RealtimeServer | undefined;
let port = 0;

beforeAll(async () => {
  database = await openTempDatabase("socketio-headers");
  live = await startRealtime();
  port = live.port;
});

afterAll(async () => {
  await live?.close();
  await database?.close();
});

function get(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
      .on("error", reject);
  });
}

describe("socket.io's own answers carry the panel's headers", () => {
  it.each([
    ["a polling handshake", "/socket.io/?EIO=4&transport=polling", 200],
    ["a refused request (unknown transport)", "/socket.io/?EIO=4&transport=carrier-pigeon", 400],
  ])("%s", async (_what, path, status) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    expect(res.headers).toMatchObject({
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "permissions-policy": PERMISSIONS_POLICY,
      "cache-control": "no-store",
    });
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
  });
});
