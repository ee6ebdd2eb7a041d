/**
 * The session's CSRF token: one random secret per session, kept in the session's meta
 * (session-meta.ts) so that every engine stores it without knowing it is there. It is made by the
 * first `csrfToken()` of a session (which therefore stores the session: a page with a form has
 * one), renewed whenever the session id changes (OWASP: rotate on login), and compared in
 * constant time. The check of a request is in csrf-check.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import { randomToken } from './random-token.ts';
import type { Session } from './session.ts';

/** base64url of 32 random bytes: 43 characters, 256 bits from the OS CSPRNG. */
export function newCsrfToken(): string {
  return randomToken(32);
}

/** The session's token, made (and written with the session's next flush) when it has none. */
export function csrfTokenOf(session: Session): string {
  const token = session.csrfToken;
  if (token !== undefined) return token;
  const made = newCsrfToken();
  session.setCsrfToken(made);
  return made;
}

/**
 * After an id change: a session that had a token gets a new one, so a token seen before login
 * (in a page, a log, a shared computer's cache) is worthless after it. No token, nothing to do:
 * the next csrfToken() makes one.
 */
export function renewCsrfToken(session: Session, hadToken: boolean): void {
  if (hadToken) session.setCsrfToken(newCsrfToken());
}

/**
 * Whether `sent` is `expected`, in time that does not depend on where they differ. The lengths
 * are compared first (timingSafeEqual needs equal lengths); a token's length is no secret.
 */
export function sameCsrfToken(sent: string, expected: string): boolean {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
