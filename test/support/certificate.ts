/**
 * A self-signed certificate for 127.0.0.1, made by `openssl req -x509` in a temporary folder
 * (removed at once): what a test serves HTTPS with and what its client trusts (`cert` as the CA).
 * RSA 2048 by default; `ec` gives a P-256 key (what Chromium is handed by SPKI in the DBSC test).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificate {
  /** The private key (PEM). */
  key: string;
  /** The certificate (PEM), also the CA a client trusts. */
  cert: string;
}

export function certificate(key: 'rsa' | 'ec' = 'rsa'): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-tls-'));
  const newKey = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  try {
    execFileSync('openssl', ['req', '-x509', ...newKey, '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
