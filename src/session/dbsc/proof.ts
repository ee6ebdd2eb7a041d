/**
 * The DBSC proof: a JWT the browser signs with the session's private key and sends in
 * `Secure-Session-Response` (the spec's "DBSC Proof JWT Syntax"). Verified with node:crypto only:
 *
 * - header `typ` is `dbsc+jwt`, `alg` one of those offered (ES256, RS256); `none` is never
 *   accepted, whatever the spec allows a browser to send;
 * - at registration the key is the header's `jwk` (EC P-256 for ES256, RSA of 2048 bits or more
 *   for RS256); at refresh it is the stored one, and the `alg` must be the stored one;
 * - the signature is over `<header>.<payload>` with SHA-256, ES256's in IEEE P1363 form (r || s,
 *   64 bytes) as JWS has it, not DER;
 * - the payload's `jti` is returned for the caller to check against the binding (binding.ts).
 *   Chromium 156 sends `{jti, authorization?}` and no `aud` / `iat` (docs/design.md#device-bound-sessions):
 *   no other claim is required.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DbscAlgorithm, PublicJwk } from './binding.ts';

/** A proof that passed: its key (as given at registration), algorithm and `jti`. */
export interface VerifiedProof {
  alg: DbscAlgorithm;
  jwk: PublicJwk;
  jti: string;
  /** The `authorization` claim, when the browser sent one. */
  authorization: string | undefined;
}

/** Why a proof is refused: said in one log line, never shown to the client beyond the status. */
export class ProofError extends Error {
  override readonly name = 'ProofError';
}

/** A proof is a few hundred bytes (an RSA-4096 key in the header some 900): anything far larger is not one. */
const MAX_PROOF_LENGTH = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies `token`. `key` is the stored key at refresh (with its alg), or undefined at
 * registration (the key is the header's jwk). `offered` are the algorithms accepted. Throws
 * ProofError naming what failed.
 */
export function verifyProof(token: string, offered: readonly DbscAlgorithm[], key?: { alg: DbscAlgorithm; jwk: PublicJwk }): VerifiedProof {
  if (token.length > MAX_PROOF_LENGTH) throw new ProofError('the proof is too long');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every(part => B64URL.test(part))) throw new ProofError('the proof is not a signed JWT (three base64url parts)');
  const header = decodeJson(parts[0]!, 'header');
  const payload = decodeJson(parts[1]!, 'payload');
  if (header.typ !== 'dbsc+jwt') throw new ProofError(`typ is ${JSON.stringify(header.typ)}, not "dbsc+jwt"`);
  const alg = header.alg;
  if (alg !== 'ES256' && alg !== 'RS256') throw new ProofError(`alg ${JSON.stringify(alg)} is not accepted (ES256 or RS256)`);
  if (!offered.includes(alg)) throw new ProofError(`alg ${alg} was not offered`);
  let jwk: PublicJwk;
  if (key === undefined) {
    jwk = publicJwk(header.jwk, alg);
  } else {
    if (alg !== key.alg) throw new ProofError(`alg ${alg} is not the session's (${key.alg})`);
    jwk = key.jwk;
  }
  const signature = Buffer.from(parts[2]!, 'base64url');
  if (alg === 'ES256' && signature.length !== 64) throw new ProofError('an ES256 signature is 64 bytes (IEEE P1363)');
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const ok = alg === 'ES256' ? verify('sha256', data, { key: keyObject(jwk), dsaEncoding: 'ieee-p1363' }, signature) : verify('sha256', data, keyObject(jwk), signature);
  if (!ok) throw new ProofError(key === undefined ? 'the signature does not match the proof\'s key' : 'the signature is not by the session\'s key');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new ProofError('the proof has no jti');
  const authorization = typeof payload.authorization === 'string' ? payload.authorization : undefined;
  return { alg, jwk, jti: payload.jti, authorization };
}

/** RFC 7638: SHA-256 over the key's required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new ProofError(`the proof's ${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProofError(`the proof's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The header's jwk reduced to its public members, checked against `alg`. */
function publicJwk(raw: unknown, alg: DbscAlgorithm): PublicJwk {
  if (raw === null || typeof raw !== 'object') throw new ProofError('a registration proof carries its key in the header (jwk)');
  const j = raw as Record<string, unknown>;
  if ('d' in j || 'p' in j) throw new ProofError('the jwk holds a private key');
  let jwk: PublicJwk;
  if (alg === 'ES256') {
    if (j.kty !== 'EC' || j.crv !== 'P-256' || typeof j.x !== 'string' || typeof j.y !== 'string') throw new ProofError('an ES256 key is an EC P-256 jwk');
    jwk = { kty: 'EC', crv: 'P-256', x: j.x, y: j.y };
  } else {
    if (j.kty !== 'RSA' || typeof j.n !== 'string' || typeof j.e !== 'string') throw new ProofError('an RS256 key is an RSA jwk');
    jwk = { kty: 'RSA', n: j.n, e: j.e };
  }
  const key = keyObject(jwk);
  if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new ProofError('an RS256 key has at least 2048 bits');
  return jwk;
}

function keyObject(jwk: PublicJwk): KeyObject {
  try {
    return createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new ProofError('the jwk is not a valid public key');
  }
}
