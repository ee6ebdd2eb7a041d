/**
 * The audit's cookie jar: one browser's cookies for one origin, kept as a browser keeps them, so
 * that what the audit concludes is what a browser would see. It honours what the session
 * requirements rest on (RFC 6265bis, as Chromium and Firefox implement it):
 * - a `Secure` cookie is stored only from, and sent only to, a secure origin: https, or a
 *   loopback host (127.0.0.0/8, ::1, localhost), which browsers treat as secure contexts;
 * - the `__Secure-` prefix needs `Secure`; `__Host-` needs `Secure`, `Path=/` and no `Domain`
 *   (prefixes matched case-insensitively, as browsers now do);
 * - a `Domain` that does not cover the host is refused; `Path` is matched on send;
 * - `Max-Age` wins over `Expires`; an expired cookie deletes the stored one.
 * A refused cookie is recorded with the reason (`refused`): it is evidence, not an error.
 * `HttpOnly` and `SameSite` change nothing over HTTP; they are kept for the evidence.
 */

/** One Set-Cookie header, parsed leniently: attribute names case-insensitive, values as sent. */
export interface SetCookieLine {
  /** The header as received. */
  raw: string;
  name: string;
  value: string;
  /** Attributes by lower-case name (`secure`, `httponly`: ''); the last one of a name wins. */
  attributes: Map<string, string>;
}

export interface StoredCookie {
  name: string;
  value: string;
  path: string;
  secure: boolean;
  /** Epoch milliseconds, or undefined for a browser-session cookie. */
  expires: number | undefined;
}

/** Parses one Set-Cookie header value (RFC 6265bis §5.6: name=value, then `;`-separated attributes). */
export function parseSetCookieLine(raw: string): SetCookieLine | undefined {
  const [pair = '', ...rest] = raw.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const at = part.indexOf('=');
    const name = (at < 0 ? part : part.slice(0, at)).trim().toLowerCase();
    if (name !== '') attributes.set(name, at < 0 ? '' : part.slice(at + 1).trim());
  }
  return { raw, name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Whether browsers treat `url`'s origin as secure (https, or a loopback host). */
export function isSecureOrigin(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The seconds a line keeps its cookie: undefined for a browser-session cookie, <= 0 when it deletes. */
export function lifetimeOf(line: SetCookieLine, now = Date.now()): number | undefined {
  const maxAge = line.attributes.get('max-age');
  if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return Number(maxAge);
  const expires = line.attributes.get('expires');
  if (expires !== undefined) {
    const at = Date.parse(expires);
    if (!Number.isNaN(at)) return (at - now) / 1000;
  }
  return undefined;
}

/** Why a browser on `origin` refuses `line`, or undefined when it stores it (see the top of this file). */
export function refusal(line: SetCookieLine, origin: URL): string | undefined {
  const secure = line.attributes.has('secure');
  if (secure && !isSecureOrigin(origin)) return `Secure cookie ${line.name} set by an insecure origin (${origin.origin})`;
  const lower = line.name.toLowerCase();
  if (lower.startsWith('__secure-') && !secure) return `${line.name}: the __Secure- prefix needs Secure`;
  if (lower.startsWith('__host-')) {
    if (!secure) return `${line.name}: the __Host- prefix needs Secure`;
    if (line.attributes.get('path') !== '/') return `${line.name}: the __Host- prefix needs Path=/`;
    if (line.attributes.has('domain')) return `${line.name}: the __Host- prefix forbids Domain`;
  }
  const domain = line.attributes.get('domain')?.replace(/^\./, '').toLowerCase();
  const host = origin.hostname.toLowerCase();
  if (domain !== undefined && domain !== '' && domain !== host && !host.endsWith(`.${domain}`)) return `${line.name}: Domain=${domain} does not cover ${host}`;
  return undefined;
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 §5.1.4 default-path: the request path up to its last `/`. */
function defaultPath(requestPath: string): string {
  const last = requestPath.lastIndexOf('/');
  return last <= 0 ? '/' : requestPath.slice(0, last);
}

export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  /** Cookies this jar refused, with the reason, in the order they came. */
  readonly refused: string[] = [];

  /** Takes the Set-Cookie headers of a response to a request for `url`. */
  receive(url: URL, lines: readonly SetCookieLine[]): void {
    for (const line of lines) {
      const reason = refusal(line, url);
      if (reason !== undefined) {
        this.refused.push(reason);
        continue;
      }
      const pathAttribute = line.attributes.get('path');
      const path = pathAttribute?.startsWith('/') ? pathAttribute : defaultPath(url.pathname);
      const lifetime = lifetimeOf(line);
      const key = `${line.name};${path}`;
      if (lifetime !== undefined && lifetime <= 0) {
        this.#cookies.delete(key);
        continue;
      }
      this.#cookies.set(key, { name: line.name, value: line.value, path, secure: line.attributes.has('secure'), expires: lifetime === undefined ? undefined : Date.now() + lifetime * 1000 });
    }
  }

  /** The Cookie header a browser sends with a request for `url` ('' when none). */
  header(url: URL): string {
    const now = Date.now();
    const pairs: string[] = [];
    for (const cookie of this.#cookies.values()) {
      if (cookie.expires !== undefined && cookie.expires <= now) continue;
      if (cookie.secure && !isSecureOrigin(url)) continue;
      if (pathMatches(url.pathname, cookie.path)) pairs.push(`${cookie.name}=${cookie.value}`);
    }
    return pairs.join('; ');
  }

  /** The value of the cookie `name` (any path), if the jar holds one. */
  get(name: string): string | undefined {
    for (const cookie of this.#cookies.values()) if (cookie.name === name) return cookie.value;
    return undefined;
  }

  /** Sets a cookie as a script (or an attacker planting one) would: Path=/, no attributes. */
  plant(name: string, value: string): void {
    this.#cookies.set(`${name};/`, { name, value, path: '/', secure: false, expires: undefined });
  }

  /** The names of the cookies held now. */
  names(): string[] {
    return [...new Set([...this.#cookies.values()].map(cookie => cookie.name))];
  }
}
