/**
 * CSRF tokens: one random secret per session, or per browser while it has no session.
 *
 * - The session's token is kept in the session's meta (session-meta.ts), so that every engine
 *   stores it without knowing it is there. It is made by the first `csrfToken()` of a session,
 *   renewed whenever the session id changes (OWASP: rotate on login), and compared in constant
 *   time.
 * - A visitor without a session (an anonymous login form) gets the browser's token instead: a
 *   random secret in a cookie of its own (`<cookie_name>.csrf`, HttpOnly, with the session
 *   cookie's SameSite, Secure and Path; SessionFactory.csrfCookie), and the same value in the
 *   form: OWASP's double-submit cookie. Nothing is stored, and the check reads no store: a bot
 *   that fetches login forms costs nothing. It is tied to the browser, so login CSRF stays
 *   defeated: another site's page can neither read this browser's cookie nor set it (with the
 *   `__Host-` prefix not even from a sibling subdomain), and another browser's token does not
 *   match it. It is not signed: a signature would prove that the server made the pair, but anyone
 *   gets a valid pair by visiting, so it would stop nothing that the cookie rules do not.
 * - Once the browser has a session, the session's token takes over: a session stored for the
 *   first time takes the browser's token as its own (a form rendered a moment before still
 *   passes), and login gives it a new one, so a token seen before login is worthless after it.
 *
 * The check of a request is in csrf-check.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import { randomToken } from './random-token.ts';
import type { Session } from './session.ts';

/** base64url of 32 random bytes: 43 characters, 256 bits from the OS CSPRNG. */
export function newCsrfToken(): string {
  return randomToken(32);
}

/** `value` if it has the form of a token (a browser's CSRF cookie is client input), else undefined. */
export function wellFormedCsrfToken(value: string | undefined): string | undefined {
  return value !== undefined && TOKEN_FORM.test(value) ? value : undefined;
}

const TOKEN_FORM = /^[A-Za-z0-9_-]{43}$/;

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
