/**
 * The session settings under `engines.session.<Name>` in config.yml: Dancer2's cookie keys and
 * `session_duration`, which belong to the SessionFactory, and the engine's own keys. Both are
 * read here in one pass so an unknown key is reported once, with the full list of known keys.
 */
import { ConfigError } from '../base/errors.ts';
import { boolean, duration, integer, readOptions, string, type Specs } from '../base/schema.ts';
import type { SessionEngineDefinition } from './engine.ts';
import { findSessionEngine, sessionEngineNames } from './engine-registry.ts';

/** The cookie and expiry policy, with Dancer2's names and defaults (docs/design.md#expiry, #the-session-cookie). */
export interface SessionPolicy {
  cookie_name: string;
  cookie_path: string;
  cookie_domain: string | undefined;
  /** Seconds; undefined = a browser-session cookie (no Expires). */
  cookie_duration: number | undefined;
  is_secure: boolean;
  is_http_only: boolean;
  cookie_same_site: 'Strict' | 'Lax' | 'None';
  /** Seconds of inactivity after which a session expires (sliding). */
  session_duration: number;
  /**
   * Seconds from a session's creation after which it expires however much it is used (never
   * extended; `changeSessionId` keeps the creation time); undefined: no such limit.
   */
  absolute_duration: number | undefined;
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
   * Whether routes check a CSRF token on unsafe methods (csrf-check.ts): a POST, PUT, PATCH or
   * DELETE without the session's token in `_csrf` or `X-CSRF-Token` is a 403 before the route.
   * On by default (docs/design.md#csrf-on-by-default); a route opts out with `{ csrf: false }`.
   */
  csrf: boolean;
}

export const sessionPolicySpecs: Specs<SessionPolicy> = {
  cookie_name: string('dancer.session'),
  cookie_path: string('/'),
  cookie_domain: string(undefined),
  cookie_duration: duration(undefined),
  is_secure: boolean(false),
  is_http_only: boolean(true),
  cookie_same_site: string('Lax', ['Strict', 'Lax', 'None']) as Specs<SessionPolicy>['cookie_same_site'],
  session_duration: duration(86400),
  absolute_duration: duration(undefined),
  max_session_size: integer(256 * 1024, 2),
  hash_ids: boolean(false),
  csrf: boolean(true),
};

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
  if (checked.cookie_same_site === 'None' && !checked.is_secure) {
    // Browsers drop SameSite=None cookies that are not Secure: the session would silently vanish.
    throw new ConfigError(where.file, `${where.optionsPath}.cookie_same_site`, '"Lax" or "Strict" unless is_secure is true (SameSite=None requires Secure)', 'None');
  }
  return { engineName: found.name, engine: found.definition, engineOptions, policy: checked };
}
