/**
 * Random tokens (session ids, CSRF tokens) as base64url, drawn from a pool the OS CSPRNG fills
 * 4 KiB at a time: one call into OpenSSL per ~170 ids instead of one per id (crypto.randomBytes
 * was 2.8% of an app server's CPU in the login flood of RELIABILITY.md). Each byte is handed out once;
 * the pool is this process's own (workers are processes, not fork(2) copies).
 */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(4096);
let used = POOL.length;

/** base64url of `bytes` random bytes (at most 4096). */
export function randomToken(bytes: number): string {
  if (used + bytes > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const token = POOL.toString('base64url', used, used + bytes);
  used += bytes;
  return token;
}
