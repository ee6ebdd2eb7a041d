/**
 * A session's device binding (DBSC, docs/design.md#device-bound-sessions): what the framework
 * keeps inside the session under `__quickstep_dbsc` (session-meta.ts), and the two values made
 * from it without any store access: challenges and bound cookies.
 *
 *   "__quickstep_dbsc": { "secret": <32 bytes b64url>, "used": <ms>, "id": <DBSC session id>,
 *                         "alg": "ES256", "jwk": {...}, "thumbprint": <RFC 7638>, "boundAt": <ms> }
 *
 * A binding is pending (offered at an id change, no key yet) or bound (a key registered). Its
 * `secret` is the HMAC key of both derived values, so:
 * - a challenge is `<issued ms, base 36>.<nonce>.<mac>`: checked by its MAC and age alone, and
 *   single-use through `used`, the issue time of the last challenge a proof consumed (a
 *   challenge must be newer). Issuing one writes nothing: a 403 with a challenge costs the
 *   session's read only.
 * - a bound cookie is `<expiry s, base 36>.<mac>`: a device-bound route checks it against the
 *   secret of the session it already loads. Any bound cookie minted before its expiry is valid
 *   (overlapping refreshes), and a new binding (a new secret) voids them all.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../random-token.ts';

/** The signature algorithms a binding's key may use (the spec's `none` is never accepted). */
export type DbscAlgorithm = 'ES256' | 'RS256';
export const DBSC_ALGORITHMS: readonly DbscAlgorithm[] = ['ES256', 'RS256'];

/** The public key of a bound session: its members (kty, crv, x, y or kty, n, e) only. */
export type PublicJwk = { kty: 'EC'; crv: 'P-256'; x: string; y: string } | { kty: 'RSA'; n: string; e: string };

export interface DbscBinding {
  /** HMAC key of this binding's challenges and bound cookies (base64url of 32 bytes). */
  readonly secret: string;
  /** Issue time (ms) of the last challenge a proof consumed: only newer ones are accepted. */
  readonly used: number;
  /** The DBSC `session_identifier` the browser sends back in Sec-Secure-Session-Id; never the session id. */
  readonly id: string;
  /** Set once a key is registered. */
  readonly alg?: DbscAlgorithm;
  readonly jwk?: PublicJwk;
  /** The key's RFC 7638 thumbprint (SHA-256, base64url): what names the key in logs and lists. */
  readonly thumbprint?: string;
  /** When the key was registered (ms since epoch). */
  readonly boundAt?: number;
}

/** A binding that has a registered key. */
export type BoundBinding = DbscBinding & Required<Pick<DbscBinding, 'alg' | 'jwk' | 'thumbprint' | 'boundAt'>>;

/** How long a challenge is accepted after it was issued (the spec: challenges are short-lived). */
export const CHALLENGE_LIFETIME_MS = 60_000;
/** A challenge issued this far in the future (another worker's clock) is still taken. */
const CLOCK_SKEW_MS = 5_000;

/** A new pending binding: what an id change offers for registration. */
export function newBinding(): DbscBinding {
  return { secret: randomToken(32), used: 0, id: randomToken(16) };
}

export function isBound(binding: DbscBinding | undefined): binding is BoundBinding {
  return binding?.jwk !== undefined;
}

/** The binding in stored JSON (client-independent, but checked: a store is read, not trusted blindly). */
export function readBinding(raw: unknown): DbscBinding | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const b = raw as Record<string, unknown>;
  if (typeof b.secret !== 'string' || typeof b.used !== 'number' || typeof b.id !== 'string') return undefined;
  const binding: { -readonly [K in keyof DbscBinding]: DbscBinding[K] } = { secret: b.secret, used: b.used, id: b.id };
  if ((b.alg === 'ES256' || b.alg === 'RS256') && b.jwk !== null && typeof b.jwk === 'object' && typeof b.thumbprint === 'string' && typeof b.boundAt === 'number') {
    binding.alg = b.alg;
    binding.jwk = b.jwk as PublicJwk;
    binding.thumbprint = b.thumbprint;
    binding.boundAt = b.boundAt;
  }
  return binding;
}

/** A fresh challenge for `binding` (stores nothing). */
export function issueChallenge(binding: DbscBinding, now = Date.now()): string {
  const body = `${now.toString(36)}.${randomToken(12)}`;
  return `${body}.${mac(binding.secret, 'challenge', body)}`;
}

/** Why a challenge (a proof's `jti`) is refused. */
export type ChallengeRefusal = 'forged' | 'stale' | 'used';

/** The issue time of `challenge` when `binding` accepts it now, else why not. */
export function checkChallenge(binding: DbscBinding, challenge: string, now = Date.now()): number | ChallengeRefusal {
  const parts = challenge.split('.');
  if (parts.length !== 3 || !/^[0-9a-z]{1,11}$/.test(parts[0]!)) return 'forged';
  const body = `${parts[0]}.${parts[1]}`;
  if (!sameText(parts[2]!, mac(binding.secret, 'challenge', body))) return 'forged';
  const issued = parseInt(parts[0]!, 36);
  if (issued <= binding.used) return 'used';
  if (now - issued > CHALLENGE_LIFETIME_MS || issued - now > CLOCK_SKEW_MS) return 'stale';
  return issued;
}

/** A bound cookie value valid until `expiresAt` (ms). */
export function boundCookieValue(binding: DbscBinding, expiresAt: number): string {
  const body = Math.floor(expiresAt / 1000).toString(36);
  return `${body}.${mac(binding.secret, 'cookie', body)}`;
}

/** Whether `value` is a bound cookie of `binding` that has not expired. */
export function validBoundCookie(binding: DbscBinding, value: string | undefined, now = Date.now()): boolean {
  if (value === undefined) return false;
  const dot = value.indexOf('.');
  if (dot < 1 || dot > 11) return false;
  const body = value.slice(0, dot);
  if (!/^[0-9a-z]+$/.test(body) || !sameText(value.slice(dot + 1), mac(binding.secret, 'cookie', body))) return false;
  return parseInt(body, 36) * 1000 > now;
}

/** HMAC-SHA256 under the binding's secret, with a label per use so one value never passes for the other; 16 bytes. */
function mac(secret: string, label: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(`${label}|${body}`).digest().subarray(0, 16).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
