import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { AppError } from "@/lib/core/errors";
import { EXPIRY_WARNING_DAYS } from "@/lib/core/listeners";

/**
 * PEM certificates and keys checked before anything is written: the chain parses,
 * the key is a private key that belongs to the first certificate (same public key),
 * each certificate is issued by the one after it, and the leaf is not expired.
 */

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([A-Za-z0-9+/=\r\n]{1,65536}?)-----END \1-----/g;

/** The PEM blocks of a text, in order, with their label ("CERTIFICATE", "PRIVATE KEY" ...). */
export function pemBlocks(text: string): { label: string; pem: string }[] {
  const out: { label: string; pem: string }[] = [];
  for (const m of text.matchAll(BLOCK)) out.push({ label: m[1], pem: `${m[0].replace(/\r\n/g, "\n")}\n` });
  return out;
}

export type CertificateFacts = {
  subject: string;
  names: string[];
  issuer: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
};

const DAY_MS = 86_400_000;

/** The subject's CN (or the whole subject when it has none), on one line. */
function commonName(dn: string): string {
  const cn = dn.split("\n").find((l) => l.startsWith("CN="));
  return (cn ? cn.slice(3) : dn.replace(/\n/g, ", ")).trim();
}

/** DNS names of the subjectAltName ("DNS:a, DNS:b, IP Address:..."). */
function sanNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:"))
    .map((s) => s.slice(4).toLowerCase());
}

export function factsOf(cert: X509Certificate): CertificateFacts {
  return {
    subject: commonName(cert.subject),
    names: sanNames(cert),
    issuer: commonName(cert.issuer),
    fingerprint: cert.fingerprint256,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

export function daysLeft(notAfter: Date, now = Date.now()): number {
  return Math.floor((notAfter.getTime() - now) / DAY_MS);
}

export function expiryOf(notAfter: Date, now = Date.now()): { daysLeft: number; expired: boolean; expiresSoon: boolean } {
  const left = daysLeft(notAfter, now);
  const expired = notAfter.getTime() <= now;
  return { daysLeft: left, expired, expiresSoon: expired || left < EXPIRY_WARNING_DAYS };
}

const samePublicKey = (a: KeyObject, b: KeyObject) =>
  a.export({ type: "spki", format: "der" }).equals(b.export({ type: "spki", format: "der" }));

/**
 * A certificate chain (leaf first) and its private key, checked. Returns the PEM texts
 * normalised (only the certificate blocks, only the key block) and the leaf's facts.
 * Throws AppError("bad_request") saying what is wrong; the message never quotes the key.
 */
export function checkCertificateAndKey(pemText: string, keyText: string, now = Date.now()): { chainPem: string; keyPem: string; facts: CertificateFacts } {
  const blocks = pemBlocks(pemText).filter((b) => b.label === "CERTIFICATE");
  if (blocks.length === 0) throw new AppError("bad_request", "pem: no PEM certificate (-----BEGIN CERTIFICATE-----) found");
  if (blocks.length > 8) throw new AppError("bad_request", "pem: more than 8 certificates in the chain");
  const chain: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(b.pem));
    } catch {
      throw new AppError("bad_request", `pem: certificate ${i + 1} does not parse as X.509`);
    }
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1]) || !chain[i].verify(chain[i + 1].publicKey)) {
      throw new AppError("bad_request", `pem: the chain is out of order: certificate ${i + 1} (${commonName(chain[i].subject)}) is not issued by certificate ${i + 2} (${commonName(chain[i + 1].subject)}); put the server certificate first, then each issuer`);
    }
  }
  const keyBlocks = pemBlocks(keyText).filter((b) => /PRIVATE KEY$/.test(b.label));
  if (keyBlocks.length !== 1) throw new AppError("bad_request", "key: exactly one PEM private key (-----BEGIN PRIVATE KEY-----) expected");
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlocks[0].pem);
  } catch {
    throw new AppError("bad_request", "key: the private key does not parse (an encrypted key is not supported)");
  }
  if (!samePublicKey(createPublicKey(key), chain[0].publicKey)) {
    throw new AppError("bad_request", "key: the private key does not match the certificate (their public keys differ)");
  }
  const facts = factsOf(chain[0]);
  if (facts.notAfter.getTime() <= now) throw new AppError("bad_request", `pem: the certificate expired on ${facts.notAfter.toISOString()}`);
  if (facts.notBefore.getTime() > now) throw new AppError("bad_request", `pem: the certificate is not valid before ${facts.notBefore.toISOString()}`);
  return { chainPem: blocks.map((b) => b.pem).join(""), keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(), facts };
}
