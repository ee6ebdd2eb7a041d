/**
 * What the framework keeps about a session beside its data, stored inside it under one reserved
 * key, so that every engine carries it without knowing it is there (and `redis-cli GET` shows it):
 *
 *   "__quickstep": { "created": <ms since epoch>, "remember": <seconds>, "csrf": <token> }
 *
 * `created` is when the session was first stored (for `absolute_duration`; `changeSessionId`
 * keeps it). `remember` is the session's own lifetime from `session().remember(seconds)`:
 * a persistent cookie and an idle timeout of that many seconds; absent, the policy's. `csrf` is
 * the session's CSRF token (csrf-token.ts), made by the first `csrfToken()`, renewed with the id.
 * The key is taken out of the data on load, so the app never sees it.
 */
export const META_KEY = '__quickstep';

/** Flash messages are session keys with this prefix: `flash('notice', ...)` is `flash.notice`. */
export const FLASH_PREFIX = 'flash.';

export interface SessionMeta {
  created: number;
  remember?: number;
  csrf?: string;
}

/** Takes the meta out of loaded `data` (deleting the key); undefined when absent or malformed. */
export function extractMeta(data: Record<string, unknown>): SessionMeta | undefined {
  if (!Object.hasOwn(data, META_KEY)) return undefined;
  const meta = readMeta(data);
  delete data[META_KEY];
  return meta;
}

/** The meta in stored `data`, left in place; undefined when absent or malformed. */
export function readMeta(data: Record<string, unknown>): SessionMeta | undefined {
  const raw = (Object.hasOwn(data, META_KEY) ? data[META_KEY] : undefined) as Partial<SessionMeta> | null | undefined;
  if (raw === null || typeof raw !== 'object' || typeof raw.created !== 'number') return undefined;
  const meta: SessionMeta = { created: raw.created };
  if (typeof raw.remember === 'number' && raw.remember > 0) meta.remember = raw.remember;
  if (typeof raw.csrf === 'string') meta.csrf = raw.csrf;
  return meta;
}

/**
 * Seconds a store keeps a session from `now` without use: its own lifetime or `idle`
 * (session_duration), cut to what is left of `absolute` (absolute_duration) since `created`;
 * at least 1. Zero or less when absolute_duration has passed (the session is over).
 */
export function ttlFor(meta: SessionMeta | undefined, idle: number, absolute: number | undefined, now: number): number {
  const own = meta?.remember ?? idle;
  if (absolute === undefined || meta === undefined) return own;
  const left = Math.ceil((meta.created + absolute * 1000 - now) / 1000);
  return left <= 0 ? left : Math.min(own, left);
}
