/**
 * The bound cookie: the short-lived credential a device-bound session keeps alive (the spec's
 * session credential). Its name is the session cookie's with `__Host-` and `.bound`, so it is
 * Secure, host-only and at Path=/ whatever the session cookie is (browsers enforce the prefix);
 * HttpOnly, with the session cookie's SameSite. Its value comes from binding.ts.
 */
import { serialize } from 'cookie';
import { cookiePrefixOf, type SessionPolicy } from '../settings.ts';

export class BoundCookie {
  readonly name: string;
  /** The attributes as the session instructions name them (no Max-Age: it does not count there). */
  readonly attributes: string;
  /** Seconds a bound cookie lives (dbsc_cookie_duration). */
  readonly seconds: number;
  readonly #sameSite: 'strict' | 'lax' | 'none';

  constructor(policy: SessionPolicy) {
    const base = policy.cookie_name;
    const prefix = cookiePrefixOf(base);
    this.name = `__Host-${prefix === undefined ? base : base.slice(prefix.length)}.bound`;
    this.#sameSite = policy.cookie_same_site.toLowerCase() as 'strict' | 'lax' | 'none';
    this.attributes = `Path=/; Secure; HttpOnly; SameSite=${policy.cookie_same_site}`;
    this.seconds = policy.dbsc_cookie_duration;
  }

  /** The Set-Cookie value carrying `value` for `seconds`. */
  header(value: string): string {
    return serialize(this.name, value, { path: '/', secure: true, httpOnly: true, sameSite: this.#sameSite, maxAge: this.seconds });
  }

  /** The Set-Cookie value that makes the browser drop it. */
  expired(): string {
    return serialize(this.name, '', { path: '/', secure: true, httpOnly: true, sameSite: this.#sameSite, maxAge: 0, expires: new Date(0) });
  }
}
