import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CERTIFICATE_ID } from "@/lib/core/listeners";
import { AppError } from "@/lib/core/errors";

/**
 * Where certificates live: DATA_DIR/tls/certs/<id>.crt (the chain), <id>.key (the
 * private key) and <id>.pem (chain + key, as HAProxy reads them). Keys are mode 600
 * and never leave this folder: the database keeps the facts, configs name the files.
 */

export type CertificateFiles = { certFile: string; keyFile: string; pemFile: string };

export function tlsDir(dataDir: string): string {
  return path.join(dataDir, "tls");
}

export function certificatesDir(dataDir: string): string {
  return path.join(tlsDir(dataDir), "certs");
}

export function newCertificateId(): string {
  return randomBytes(8).toString("hex");
}

export function certificateFiles(dataDir: string, id: string): CertificateFiles {
  if (!CERTIFICATE_ID.test(id)) throw new AppError("bad_request", "not a certificate id");
  const dir = certificatesDir(dataDir);
  return { certFile: path.join(dir, `${id}.crt`), keyFile: path.join(dir, `${id}.key`), pemFile: path.join(dir, `${id}.pem`) };
}

/** Writes a file with its final mode from the first byte (a temp name, then a rename). */
export function writePrivate(file: string, text: string, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, text, { mode, flag: "wx" });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

export function saveCertificate(dataDir: string, id: string, chainPem: string, keyPem: string): CertificateFiles {
  const files = certificateFiles(dataDir, id);
  writePrivate(files.keyFile, keyPem);
  // the chain is public, but HAProxy's bundle holds the key: both stay the panel's
  writePrivate(files.certFile, chainPem);
  writePrivate(files.pemFile, chainPem + keyPem);
  return files;
}

export function removeCertificateFiles(dataDir: string, id: string): void {
  for (const f of Object.values(certificateFiles(dataDir, id))) fs.rmSync(f, { force: true });
}
