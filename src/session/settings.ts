/**
 * The session settings under `engines.session.<Name>` in config.yml: Dancer2's cookie keys and
 * `session_duration`, which belong to the SessionFactory, and the engine's own keys. Both are
 * read here in one pass so an unknown key is reported once, with the full list of known keys.
 */
import { ConfigError } from '../base/errors.ts';
import { boolean, booleanOrAuto, duration, integer, list, readOptions, string, type Specs } from '../base/schema.ts';
import type { SessionEngineDefinition } from './engine.ts';
import { findSessionEngine, sessionEngineNames } from './engine-registry.ts';

/**
 * The cookie and expiry policy, with Dancer2's names; the defaults are secure ones
 * (docs/design.md#expiry, #the-session-cookie).
 */
export interface SessionPolicy {
  /**
   * The cookie's name over plain http; over HTTPS it gets the `__Host-` prefix (`__Secure-` with
   * cookie_domain or a cookie_path other than `/`): session-cookie.ts. A name that already has a
   * prefix is used as it is, and always sent Secure. Default `sid`: names nothing.
   */
  cookie_name: string;
  /**
   * Names the session cookie had before (an upgrade, a changed cookie_name): read only when the
   * request has no cookie under the current name, and then moved to it (RequestSession). Default
   * `['dancer.session']`, Quickstep's default before the secure defaults, so an upgrade logs no one
   * out. A session made over HTTPS is never read under them (request-session.ts: cookie tossing).
   */
  previous_cookie_names: string[] | undefined;
  cookie_path: string;
  cookie_domain: string | undefined;
  /** Seconds; undefined = a browser-session cookie (no Expires). */
  cookie_duration: number | undefined;
  /**
   * `auto` (default): Secure, with the prefixed name, on a request that came over HTTPS (a TLS
   * socket, or `X-Forwarded-Proto: https` from a proxy trusted with `trust_proxy`), and neither over
   * plain http (development on localhost); `true`: always; `false`: never.
   */
  is_secure: boolean | 'auto';
  is_http_only: boolean;
  cookie_same_site: 'Strict' | 'Lax' | 'None';
  /** Seconds of inactivity after which a session expires (sliding). */
  session_duration: number;
  /**
   * Seconds from a session's creation after which it expires however much it is used (never
   * extended; `changeSessionId` keeps the creation time); undefined: no such limit.
   */
  absolute_duration: number | undefined;
  /** What a response that ends the session asks the browser to clear (Clear-Site-Data, docs/design.md#logout-clears-the-browser); [] for nothing. */
  clear_site_data: ('cookies' | 'storage' | 'cache')[];
  /**
   * Bytes (UTF-8) a session's stored JSON may take: a write past it is a SessionTooLargeError
   * (413) and stores nothing. Bounds the work one session costs its neighbours on every read and
   * flush (default 256 KiB).
   */
  max_session_size: number;
  /**
   * Whether the store key is the SHA-256 of the id (store-key.ts), so the store holds no
   * replayable id. Default false, so an upgrade logs nobody out; new configs set it to true.
   */
  hash_ids: boolean;
  /**
   * With hash_ids: an id the store does not know under its hash is looked for under the id
   * itself (a session stored before hash_ids was turned on) and moved to its hash, so turning
   * hash_ids on logs no one out. Costs one more read for an unknown id only. Default true; once
   * session_duration has passed since hash_ids was turned on, no such session is left and it
   * may be set to false (docs/design.md#migrations-that-log-no-one-out).
   */
  rekey_unhashed_ids: boolean;
  /**
   * Whether routes check a CSRF token on unsafe methods (csrf-check.ts): a POST, PUT, PATCH or
   * DELETE without the session's token in `_csrf` or `X-CSRF-Token` is a 403 before the route.
   * On by default (docs/design.md#csrf-on-by-default); a route opts out with `{ csrf: false }`.
   */
  csrf: boolean;
  /**
   * Seconds after which a session in use gets a new id (OWASP's renewal timeout); undefined (the
   * default): never, but at login. The old id goes on working for renewal_grace seconds,
   * forwarded to the new one (docs/design.md#renewal-with-a-grace-window); on the Cookie engine
   * a reseal under a new id (backend/sealed.ts).
   */
  renewal_duration: number | undefined;
  /** Seconds a renewed session's old id still reaches it (requests in flight; default 10). */
  renewal_grace: number;
  /**
   * Where a `{ recentAuth: seconds }` route sends a session whose last login is older (a 302,
   * with the path asked for in `return_to`); undefined (the default): a 401 instead.
   */
  reauth_redirect: string | undefined;
  /** Most live sessions one user (login's userId) may have; undefined (the default): no cap. */
  max_sessions_per_user: number | undefined;
  /**
   * What a login past max_sessions_per_user does: `end_least_recent` (the default) ends the user's
   * least recently used sessions to make room; `refuse` refuses the login (409
   * TooManySessionsError) and changes nothing (docs/design.md#a-cap-per-user).
   */
  max_sessions_policy: 'end_least_recent' | 'refuse';
  /**
   * Unknown, expired or revoked session ids one client (its address, as trust_proxy defines it)
   * may send in a minute before it is reported: a warning line and the `session.id_guessing`
   * hook (session/abuse/). Default 100; 0: not counted.
   */
  unknown_id_limit: number;
  /** Past unknown_id_limit, the client's session requests answer 429 until the minute ends (default false). */
  unknown_id_block: boolean;
  /** New sessions one client may store in a minute; past it, 429 and nothing stored. Default 0: no limit. */
  new_session_limit: number;
  /**
   * Device Bound Session Credentials (docs/design.md#device-bound-sessions): a login (any id
   * change) offers the browser to bind the session to a key it keeps on the device; a bound
   * session then also needs a short-lived bound cookie that only that key can renew, on routes
   * with `{ deviceBound: true }`. Off by default. Not with a sealing engine (Cookie).
   */
  dbsc: boolean;
  /** Seconds a bound cookie lives before the browser must prove its key again (default 600). */
  dbsc_cookie_duration: number;
}

export const sessionPolicySpecs: Specs<SessionPolicy> = {
  cookie_name: string('sid'),
  previous_cookie_names: list(string(''), ['dancer.session']),
  cookie_path: string('/'),
  cookie_domain: string(undefined),
  cookie_duration: duration(undefined),
  is_secure: booleanOrAuto('auto'),
  is_http_only: boolean(true),
  cookie_same_site: string('Lax', ['Strict', 'Lax', 'None']) as Specs<SessionPolicy>['cookie_same_site'],
  session_duration: duration(86400),
  absolute_duration: duration(undefined),
  clear_site_data: { ...list(string('cookies', ['cookies', 'storage', 'cache']), ['cookies']), expected: 'a list of "cookies", "storage", "cache" ([] for none)' } as Specs<SessionPolicy>['clear_site_data'],
  max_session_size: integer(256 * 1024, 2),
  hash_ids: boolean(false),
  rekey_unhashed_ids: boolean(true),
  csrf: boolean(true),
  renewal_duration: duration(undefined),
  renewal_grace: duration(10),
  reauth_redirect: string(undefined),
  max_sessions_per_user: integer(undefined, 1),
  max_sessions_policy: string('end_least_recent', ['end_least_recent', 'refuse']) as Specs<SessionPolicy>['max_sessions_policy'],
  unknown_id_limit: integer(100, 0),
  unknown_id_block: boolean(false),
  new_session_limit: integer(0, 0),
  dbsc: boolean(false),
  dbsc_cookie_duration: duration(600),
};

/** Whether `name` starts with a cookie prefix browsers enforce (matched case-insensitively, as RFC 6265bis does). */
export function cookiePrefixOf(name: string): '__Host-' | '__Secure-' | undefined {
  const start = name.slice(0, 9).toLowerCase();
  if (start.startsWith('__host-')) return '__Host-';
  if (start === '__secure-') return '__Secure-';
  return undefined;
}

/**
 * The name the session cookie has over a scheme: a name that carries a prefix is kept as it is
 * (it is always sent Secure); else over HTTPS `__Host-<name>` when the cookie is host-only at
 * Path=/, `__Secure-<name>` otherwise; over http the name itself.
 */
export function sessionCookieName(policy: SessionPolicy, secure: boolean): string {
  const name = policy.cookie_name;
  if (!secure || cookiePrefixOf(name) !== undefined) return name;
  return `${policy.cookie_domain === undefined && policy.cookie_path === '/' ? '__Host-' : '__Secure-'}${name}`;
}

/** The chosen engine, its checked options and the policy, ready for a SessionFactory. */
export interface SessionSettings {
  engineName: string;
  engine: SessionEngineDefinition<any>;
  engineOptions: Record<string, unknown>;
  policy: SessionPolicy;
}

/**
 * Checks the engine named by `session:` and its options. `file` is the config file the options
 * came from (for messages); `path` is where they sit in it (`engines.session.Redis`).
 */
export function readSessionSettings(
  name: string,
  options: unknown,
  where: { file: string; enginePath: string; optionsPath: string },
): SessionSettings {
  const found = findSessionEngine(name);
  if (!found) {
    throw new ConfigError(where.file, where.enginePath, `a session engine name (one of: ${sessionEngineNames().join(', ')})`, name);
  }
  const specs = { ...sessionPolicySpecs, ...found.definition.options };
  const all = readOptions<Record<string, unknown>>(specs as Specs<Record<string, unknown>>, options, {
    file: where.file,
    path: where.optionsPath,
  });
  const policy = {} as Record<string, unknown>;
  const engineOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (Object.hasOwn(sessionPolicySpecs, key)) policy[key] = value;
    else engineOptions[key] = value;
  }
  found.definition.validate?.(engineOptions, { file: where.file, path: where.optionsPath });
  const checked = policy as unknown as SessionPolicy;
  checkCookiePolicy(checked, where.file, where.optionsPath);
  return { engineName: found.name, engine: found.definition, engineOptions, policy: checked };
}

/**
 * The cookie settings browsers would refuse, as ConfigErrors at start-up rather than a session
 * that silently never sticks: a prefixed name that is not Secure, a `__Host-` name with a Domain
 * or a Path other than `/` (RFC 6265bis §4.1.3), SameSite=None without Secure.
 */
function checkCookiePolicy(policy: SessionPolicy, file: string, path: string): void {
  const prefix = cookiePrefixOf(policy.cookie_name);
  if (prefix !== undefined && policy.is_secure === false) {
    throw new ConfigError(file, `${path}.is_secure`, `true or "auto" with cookie_name "${policy.cookie_name}" (browsers drop a ${prefix} cookie that is not Secure)`, 'false');
  }
  if (prefix === '__Host-' && policy.cookie_domain !== undefined) {
    throw new ConfigError(file, `${path}.cookie_domain`, `no cookie_domain with a __Host- cookie_name (use __Secure- or no prefix: over HTTPS it is then added)`, policy.cookie_domain);
  }
  if (prefix === '__Host-' && policy.cookie_path !== '/') {
    throw new ConfigError(file, `${path}.cookie_path`, `"/" with a __Host- cookie_name (use __Secure- or no prefix: over HTTPS it is then added)`, policy.cookie_path);
  }
  if (policy.renewal_duration !== undefined && policy.renewal_grace >= policy.renewal_duration) {
    // A grace as long as the renewal would leave two live ids for a session all the time.
    throw new ConfigError(file, `${path}.renewal_grace`, `fewer seconds than renewal_duration (${policy.renewal_duration})`, String(policy.renewal_grace));
  }
  if (policy.reauth_redirect !== undefined && !/^\/(?![/\\])/.test(policy.reauth_redirect)) {
    // A path of this site only: an absolute URL here would make every stale route an open redirect's cousin.
    throw new ConfigError(file, `${path}.reauth_redirect`, 'a path on this site starting with "/" (e.g. "/login")', policy.reauth_redirect);
  }
  // A prefixed name is always sent Secure (session-cookie.ts); `auto` is not Secure over http.
  if (policy.cookie_same_site === 'None' && policy.is_secure !== true && prefix === undefined) {
    // Browsers drop SameSite=None cookies that are not Secure: the session would silently vanish.
    throw new ConfigError(file, `${path}.cookie_same_site`, '"Lax" or "Strict" unless is_secure is true (SameSite=None requires Secure)', 'None');
  }
}
