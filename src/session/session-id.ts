/**
 * Session ids: what one looks like and how one is made. The factory checks every id a client
 * sends against this shape before any engine sees it (Dancer2's rule), so an engine is never
 * handed a value an attacker chose freely.
 */
import { randomToken } from './random-token.ts';

/** base64url of 24 random bytes: exactly 32 characters, 192 bits from the OS CSPRNG. */
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** A new session id. */
export function newSessionId(): string {
  return randomToken(24);
}

/** Whether `id` has the shape of an id newSessionId makes. Nothing else reaches an engine. */
export function isSessionId(id: string): boolean {
  return ID_PATTERN.test(id);
}
