/**
 * The "hand-written AES-GCM cookie" baseline: the Cookie engine's own limit. node:http and
 * node:crypto, and the least a server can do that keeps the session sealed in the cookie with
 * the cipher Quickstep's Cookie engine uses (src/session/engines/cookie/seal.ts): AES-256-GCM
 * under a 32-byte key, a fresh 12-byte IV per seal, a 16-byte tag, base64url in the cookie.
 *
 *   cookie := "sid=" base64url( iv(12) ciphertext tag(16) ),  plaintext := {"e":<expiry ms>,"d":<data>}
 *
 * A read opens the seal, JSON.parses it and checks the expiry (a seal without one would open
 * forever); a write does the same, changes the data, JSON.stringifies it and seals it again with a
 * fresh IV, sent as Set-Cookie. Nothing else: no key ids or rotation, no associated data, no
 * session id, no canonical-encoding check, no issue time, no reseal policy. What Quickstep adds
 * on top of this is what its Cookie rows' ratios measure.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCookie } from 'cookie';
import { announce, sessionPad, SESSION_TTL } from './harness.ts';

interface Data { n?: number; pad?: string }
const PAD = sessionPad();
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY = Buffer.from(hkdfSync('sha256', 'bench-only-secret-of-at-least-32-bytes', 'bench', 'hand-cookie', 32));

function seal(data: Data): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', KEY, iv, { authTagLength: TAG_BYTES });
  const body = cipher.update(JSON.stringify({ e: Date.now() + SESSION_TTL * 1000, d: data }), 'utf8');
  const rest = cipher.final();
  return Buffer.concat([iv, body, rest, cipher.getAuthTag()]).toString('base64url');
}

/** The session in `value`, or undefined when it is not one of our seals or has expired. */
function open(value: string | undefined): Data | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', KEY, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const body = decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  const sealed = JSON.parse(body.toString('utf8')) as { e: number; d: Data };
  return sealed.e > Date.now() ? sealed.d : undefined;
}

function send(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.url === '/hello') return send(res, 'hello');
  const data = open(parseCookie(req.headers.cookie ?? '')['sid']);
  if (req.url === '/read') return send(res, String(data?.n ?? 0));
  if (req.url === '/write') {
    const next: Data = data ?? {};
    next.n = (next.n ?? 0) + 1;
    if (PAD !== undefined && next.pad === undefined) next.pad = PAD;
    res.setHeader('set-cookie', `sid=${seal(next)}; Path=/; HttpOnly; SameSite=Lax`);
    return send(res, 'ok');
  }
  send(res, 'not found', 404);
});
server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
