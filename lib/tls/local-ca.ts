import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { exec } from "@/lib/process/exec";
import { AppError } from "@/lib/core/errors";
import { tlsDir, writePrivate } from "@/lib/tls/store";

/**
 * The panel's own certificate authority (mkcert-style, no ACME: there is no internet
 * here). Made on first use in DATA_DIR/tls (ca.key mode 600, ca.crt), it signs
 * certificates for local names; the user downloads ca.crt and trusts it. Uses the
 * openssl command (argv arrays, never a shell); every host name was validated before.
 */

const OPENSSL_TIMEOUT_MS = 20_000;
const CA_DAYS = 3650;
/** What browsers accept for a server certificate at most. */
const LEAF_DAYS = 397;
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function caFiles(dataDir: string): { certFile: string; keyFile: string } {
  return { certFile: path.join(tlsDir(dataDir), "ca.crt"), keyFile: path.join(tlsDir(dataDir), "ca.key") };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await exec(["openssl", ...args], { timeoutMs: OPENSSL_TIMEOUT_MS });
  } catch (e) {
    const output = e && typeof e === "object" && "output" in e ? String((e as { output: string }).output) : String(e);
    throw new AppError("internal", `openssl failed: ${output.split("\n").slice(0, 3).join(" ")}`);
  }
}

/** A private temp folder for openssl's output; removed afterwards. */
async function inTempDir<T>(dataDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  fs.mkdirSync(tlsDir(dataDir), { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(tlsDir(dataDir), ".tmp-"));
  try {
    return await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let making: Promise<void> | null = null;

/* turbopackIgnore: files under DATA_DIR at run time, not files of the build for `next build` to trace */
/** The CA's certificate (PEM), made once. */
export async function ensureLocalCa(dataDir: string): Promise<string> {
  const { certFile, keyFile } = caFiles(dataDir);
  if (!(fs.existsSync(/*turbopackIgnore: true*/ certFile) && fs.existsSync(/*turbopackIgnore: true*/ keyFile))) {
    making ??= inTempDir(dataDir, async (dir) => {
      const key = path.join(dir, "ca.key");
      const crt = path.join(dir, "ca.crt");
      const cn = `Switchyard local CA ${os.hostname().replace(/[^A-Za-z0-9.-]/g, "").slice(0, 40)} ${randomBytes(3).toString("hex")}`;
      await openssl([
        "req", "-x509", ...EC, "-keyout", key, "-out", crt, "-days", String(CA_DAYS), "-subj", `/O=Switchyard/CN=${cn}`,
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ]);
      writePrivate(keyFile, fs.readFileSync(key, "utf8"));
      writePrivate(certFile, fs.readFileSync(crt, "utf8"), 0o644);
    }).finally(() => {
      making = null;
    });
    await making;
  }
  return fs.readFileSync(/*turbopackIgnore: true*/ certFile, "utf8");
}

/** A new key and a certificate for `hosts` (validated names) signed by the local CA, PEM (the chain is the leaf: clients hold the root). */
export async function issueLocalCertificate(dataDir: string, hosts: readonly string[]): Promise<{ chainPem: string; keyPem: string }> {
  await ensureLocalCa(dataDir);
  const ca = caFiles(dataDir);
  return inTempDir(dataDir, async (dir) => {
    const key = path.join(dir, "leaf.key");
    const crt = path.join(dir, "leaf.crt");
    await openssl([
      "req", "-x509", ...EC, "-keyout", key, "-out", crt, "-days", String(LEAF_DAYS), "-subj", `/O=Switchyard/CN=${hosts[0]}`,
      "-CA", ca.certFile, "-CAkey", ca.keyFile, "-set_serial", `0x${randomBytes(12).toString("hex")}`,
      "-addext", `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`,
      "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=serverAuth",
    ]);
    return { chainPem: fs.readFileSync(crt, "utf8"), keyPem: fs.readFileSync(key, "utf8") };
  });
}
