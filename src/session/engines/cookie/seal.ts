/**
 * The Cookie engine's crypto: text sealed with AES-256-GCM (authenticated encryption from
 * node:crypto) under keys derived from the secrets in `secret_keys`, and opened again.
 *
 *   sealed := "v1." base64url( keyId(1 byte) iv(12 bytes) ciphertext tag(16 bytes) )
 *
 * Each secret gives a 32-byte key by HKDF-SHA256, and a key id: the first byte of a second HKDF
 * output, so opening picks the key from the id instead of trying every key (only the rare
 * secrets whose ids collide are tried in turn). New seals use the first secret; the others only
 * open. The version and key id are authenticated as associated data.
 *
 * Opening is lenient as jshttp/cookie reads are: anything that is not a cookie this seal made
 * with one of its keys (tampered, truncated, re-keyed, another format, garbage) is `undefined`,
 * never an exception. Most are refused before any crypto; the one path that does throw, GCM's tag
 * check in `final()`, is caught here with stack capture off, so a flood of forged cookies costs no
 * stack traces.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key id + IV + tag: what a sealed value adds to its text, in bytes before base64url. */
const SEAL_OVERHEAD = 1 + IV_BYTES + TAG_BYTES;

interface Key {
  id: number;
  key: Buffer;
  /** The associated data: the version prefix and the key id. */
  aad: Buffer;
}

function deriveKey(secret: string): Key {
  const key = Buffer.from(hkdfSync('sha256', secret, 'quickstep', 'session cookie v1: key', 32));
  const id = Buffer.from(hkdfSync('sha256', secret, 'quickstep', 'session cookie v1: key id', 1))[0]!;
  return { id, key, aad: Buffer.from([...Buffer.from(PREFIX), id]) };
}

export class CookieSeal {
  readonly #keys: Key[];
  readonly #sealing: Key;

  /** `secrets`: newest first, each checked to be long enough (cookie.ts's definition does). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new TypeError('CookieSeal needs at least one secret');
    this.#keys = secrets.map(deriveKey);
    this.#sealing = this.#keys[0]!;
  }

  /** `text` sealed with the first secret: `v1.` and base64url, safe as a cookie value. */
  seal(text: string): string {
    const { id, key, aad } = this.#sealing;
    const iv = randomBytes(IV_BYTES);
    const header = Buffer.from([id]);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad);
    const body = cipher.update(text, 'utf8');
    const rest = cipher.final();
    return PREFIX + Buffer.concat([header, iv, body, rest, cipher.getAuthTag()]).toString('base64url');
  }

  /** The text inside `value`, or undefined when it is not a seal of one of the keys. */
  open(value: string): string | undefined {
    if (!value.startsWith(PREFIX)) return undefined;
    const encoded = value.slice(PREFIX.length);
    const bytes = Buffer.from(encoded, 'base64url');
    // Node's decoder skips characters outside the alphabet and ignores the spare low bits of the
    // last character: only the one canonical spelling of the bytes is accepted, so no edit of the
    // text can open as the same seal.
    if (bytes.length <= SEAL_OVERHEAD || bytes.toString('base64url') !== encoded) return undefined;
    const id = bytes[0]!;
    for (const key of this.#keys) {
      if (key.id !== id) continue;
      const text = decrypt(key, bytes);
      if (text !== undefined) return text;
    }
    return undefined;
  }
}

function decrypt({ key, aad }: Key, bytes: Buffer): string | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(1, 1 + IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const body = decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES));
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    decipher.final();
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
  }
  return body.toString('utf8');
}
