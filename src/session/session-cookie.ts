/**
 * The session cookie as one scheme sends it (docs/design.md#the-session-cookie): its name, its
 * attributes serialized once, the browser CSRF cookie's name beside it, and the names it is read
 * under when a browser still has a cookie from before an upgrade.
 *
 * A SessionFactory holds at most two: one for a request that came over HTTPS (Secure, the name
 * with `__Host-`, or `__Secure-` when the cookie is shared through cookie_domain or narrowed by
 * cookie_path, as the prefixes require: RFC 6265bis §4.1.3) and one for plain http (no Secure,
 * the name as configured: a browser drops a prefixed cookie that is not Secure, so a prefix over
 * http would be no cookie at all). With `is_secure: true` or `false` both are the same object.
 */
import { serialize, type SerializeOptions } from 'cookie';
import { sessionCookieName, type SessionPolicy } from './settings.ts';

export class SessionCookie {
  /** The name this cookie is sent and read under. */
  readonly name: string;
  /** The browser's CSRF cookie (csrf-token.ts): this name with `.csrf` after it, so the same prefix. */
  readonly csrfName: string;
  readonly secure: boolean;
  /**
   * Names a request that lacks `name` is read under, in order: the configured name without its
   * prefix (the cookie of the same app before it was served over HTTPS), then
   * `previous_cookie_names`. Read only when `name` is absent, so a current browser costs nothing.
   */
  readonly previousNames: readonly string[];
  readonly #base: SerializeOptions;
  /**
   * What follows `name=value` in a session cookie without Expires (`; Path=/; HttpOnly; ...`),
   * serialized once: the cookie is then one concatenation, not a serialize() that checks every
   * attribute again (2.5% of the login flood's CPU). Ids and seals are cookie-octets, always valid.
   */
  readonly #idTail: string;

  constructor(policy: SessionPolicy, secure: boolean) {
    this.name = sessionCookieName(policy, secure);
    this.csrfName = `${this.name}.csrf`;
    this.secure = secure;
    const previous = [policy.cookie_name, ...(policy.previous_cookie_names ?? [])];
    this.previousNames = [...new Set(previous)].filter(name => name !== this.name);
    this.#base = {
      path: policy.cookie_path,
      httpOnly: policy.is_http_only,
      secure,
      sameSite: policy.cookie_same_site.toLowerCase() as 'strict' | 'lax' | 'none',
      ...(policy.cookie_domain === undefined ? {} : { domain: policy.cookie_domain }),
    };
    this.#idTail = serialize(this.name, 'x', this.#base).slice(this.name.length + 2);
  }

  /**
   * The name under which `cookies` carry the session: `name`, else the first previous name
   * present (the browser is then moved to `name`: RequestSession), else undefined.
   */
  nameIn(cookies: Record<string, string | undefined>): string | undefined {
    if (cookies[this.name] !== undefined) return this.name;
    for (const name of this.previousNames) if (cookies[name] !== undefined) return name;
    return undefined;
  }

  /** The Set-Cookie value carrying `value` with an Expires `seconds` from now, or none (a browser-session cookie). */
  header(value: string, seconds: number | undefined): string {
    if (seconds === undefined) return `${this.name}=${value}${this.#idTail}`;
    return serialize(this.name, value, this.attributes(seconds));
  }

  /** The attributes, with an Expires `seconds` from now, or none. */
  attributes(seconds: number | undefined): SerializeOptions {
    return seconds === undefined ? this.#base : { ...this.#base, expires: new Date(Date.now() + seconds * 1000) };
  }

  /**
   * The browser's CSRF cookie carrying `token`: this cookie's attributes (SameSite, Secure, Path,
   * Domain, an Expires `seconds` from now if given), always HttpOnly even where the session cookie
   * is not (pages carry the token in the form).
   */
  csrfHeader(token: string, seconds: number | undefined): string {
    return serialize(this.csrfName, token, { ...this.attributes(seconds), httpOnly: true });
  }

  /** The Set-Cookie value that makes the client drop cookie `name` (this one unless given). */
  expired(name: string = this.name): string {
    return serialize(name, '', { ...this.#base, expires: new Date(0), maxAge: 0 });
  }
}
