/**
 * What the framework keeps about a session beside its data, stored inside it under one reserved
 * key, so that every engine carries it without knowing it is there (and `redis-cli GET` shows it):
 *
 *   "__quickstep": { "created": <ms since epoch>, "remember": <seconds>, "csrf": <token>, "https": true,
 *                    "auth": <ms>, "renewed": <ms>, "v": <format version> }
 *   "__quickstep_owner": "<user id>"
 *   "__quickstep_device": { "at": <ms since epoch>, "userAgent": "...", "ip": "..." }
 *   "__quickstep_dbsc": { "secret": ..., "used": ..., "id": ..., "jwk": ..., ... }  (dbsc/binding.ts)
 *
 * `created` is when the session was first stored (for `absolute_duration`; `changeSessionId`
 * keeps it). `remember` is the session's own lifetime from `session().remember(seconds)`:
 * a persistent cookie and an idle timeout of that many seconds; absent, the policy's. `csrf` is
 * the session's CSRF token (csrf-token.ts), made by the first `csrfToken()`, renewed with the id.
 * `https` says the session was made by a request over HTTPS, so its cookie was `__Host-`/`__Secure-`
 * from the start: it is never read under a previous cookie name (a sibling subdomain can plant a
 * cookie under an unprefixed name, not under a prefixed one: docs/design.md#the-session-cookie).
 * `auth` is when the user last authenticated (`login()`; a `login()` of the same user again is a
 * re-authentication), what a `{ recentAuth }` route checks. `renewed` is when renewal_duration
 * last gave the session a new id (docs/design.md#renewal-with-a-grace-window). `v` is the format
 * of this meta (SESSION_FORMAT): a session stored in an older format is upgraded when read
 * (UPGRADES) and written in the new one with its next flush (docs/design.md#migrations-that-log-no-one-out).
 * The owner is the user id given to `login(userId)`: the session is in that user's owner index.
 * The device key is what `userSessions` shows: the client of the session's last write (written
 * with every flush of an owned session, so no extra store command). Each is a key of its own:
 * flushes merge key by key, so a remember() or a device write in one request never overwrites a
 * login made meanwhile by another. None of these keys is in the values the app is given (appValues),
 * so the app never sees them; `SessionMeta.owner` is the owner key's value.
 */
import { readBinding, type DbscBinding } from './dbsc/binding.ts';
import { defineOwn } from './session-json.ts';

export const META_KEY = '__quickstep';
/** Where the owner (login) is kept (see above). */
export const OWNER_KEY = '__quickstep_owner';
/** Where the client of an owned session's last write is kept (see above). */
export const DEVICE_KEY = '__quickstep_device';
/** Where a session's device binding is kept (the `dbsc` setting; dbsc/binding.ts). */
export const DBSC_KEY = '__quickstep_dbsc';
/** The keys an app can never set: the framework's own. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([META_KEY, OWNER_KEY, DEVICE_KEY, DBSC_KEY]);

/** Flash messages are session keys with this prefix: `flash('notice', ...)` is `flash.notice`. */
export const FLASH_PREFIX = 'flash.';

/**
 * The format of the meta this version writes. Sessions stored before it (no `v`: format 0) are
 * read through UPGRADES; raise it, with an upgrade from the previous format, when a change of the
 * meta would misread sessions already stored.
 */
export const SESSION_FORMAT = 1;

/**
 * UPGRADES[n] turns a stored meta of format n into format n + 1, when a session is read. Format 0
 * (before `v`) has the same fields as format 1, which only adds `v` and the optional `auth` and
 * `renewed`: nothing to change.
 */
const UPGRADES: readonly ((raw: Record<string, unknown>) => Record<string, unknown>)[] = [raw => raw];

export interface SessionMeta {
  created: number;
  remember?: number;
  csrf?: string;
  /** Made over HTTPS: never read under a previous cookie name (see above). */
  https?: true;
  /** When the user last authenticated (login), ms since epoch. */
  auth?: number;
  /** When renewal last gave the session a new id, ms since epoch. */
  renewed?: number;
  /** The format the meta was stored in (0: before formats); SESSION_FORMAT once upgraded in memory. */
  storedFormat?: number;
  /** The owner key's value (stored apart from the meta: see above). */
  owner?: string;
  /** The device binding key's value (stored apart from the meta: see above). */
  dbsc?: DbscBinding;
}

/** The client of an owned session's last write. */
export interface SessionDevice {
  /** ms since epoch. */
  at: number;
  userAgent: string | undefined;
  ip: string | undefined;
}

/** The meta of loaded `data`, with its owner and binding; undefined when absent or malformed. `data` is left as it is. */
export function metaOf(data: Record<string, unknown>): SessionMeta | undefined {
  if (!Object.hasOwn(data, META_KEY)) return undefined;
  const meta = readMeta(data);
  if (meta === undefined) return undefined;
  const owner = ownerOf(data);
  if (owner !== undefined) meta.owner = owner;
  const dbsc = Object.hasOwn(data, DBSC_KEY) ? readBinding(data[DBSC_KEY]) : undefined;
  if (dbsc !== undefined) meta.dbsc = dbsc;
  return meta;
}

/**
 * Loaded `data` as the app sees it: without the framework's keys. A new object when it held any,
 * not `data` with them deleted: deleting a property that is not the last one turns a V8 object
 * into a slow dictionary-mode one, which cost a Memory read about 0.3 µs and a write more
 * (every later property write and JSON.stringify of it; measured on Node 26).
 */
export function appValues(data: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(data, META_KEY) && !Object.hasOwn(data, OWNER_KEY) && !Object.hasOwn(data, DEVICE_KEY) && !Object.hasOwn(data, DBSC_KEY)) return data;
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(data)) if (!RESERVED_KEYS.has(key)) defineOwn(values, key, data[key]);
  return values;
}

/** The meta in stored `data`, left in place; undefined when absent or malformed. */
export function readMeta(data: Record<string, unknown>): SessionMeta | undefined {
  let raw = (Object.hasOwn(data, META_KEY) ? data[META_KEY] : undefined) as Record<string, unknown> | null | undefined;
  if (raw === null || typeof raw !== 'object') return undefined;
  const stored = typeof raw.v === 'number' && Number.isInteger(raw.v) && raw.v >= 0 ? raw.v : 0;
  // A meta from a later format than this code knows is read as it is (a rollback): fields it does not know are dropped.
  for (let format = stored; format < SESSION_FORMAT; format++) raw = UPGRADES[format]!(raw);
  if (typeof raw.created !== 'number') return undefined;
  const meta: SessionMeta = { created: raw.created };
  if (typeof raw.remember === 'number' && raw.remember > 0) meta.remember = raw.remember;
  if (typeof raw.csrf === 'string') meta.csrf = raw.csrf;
  if (raw.https === true) meta.https = true;
  if (typeof raw.auth === 'number') meta.auth = raw.auth;
  if (typeof raw.renewed === 'number') meta.renewed = raw.renewed;
  if (stored !== SESSION_FORMAT) meta.storedFormat = stored;
  return meta;
}

/** The meta's stored JSON (`owner` has a key of its own). */
export function metaJson(meta: SessionMeta): string {
  const { owner: _, dbsc: __, storedFormat: _format, ...stored } = meta;
  return JSON.stringify({ ...stored, v: SESSION_FORMAT });
}

/** The owner recorded in stored `data` (left in place), for engines checking their index. */
export function ownerOf(data: Record<string, unknown>): string | undefined {
  const owner = Object.hasOwn(data, OWNER_KEY) ? data[OWNER_KEY] : undefined;
  return typeof owner === 'string' && owner !== '' ? owner : undefined;
}

/** The device recorded in stored `data` (left in place); undefined when there is none. */
export function deviceOf(data: Record<string, unknown>): SessionDevice | undefined {
  const raw = Object.hasOwn(data, DEVICE_KEY) ? (data[DEVICE_KEY] as Partial<SessionDevice> | null) : undefined;
  if (raw === null || typeof raw !== 'object' || typeof raw.at !== 'number') return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { at: raw.at, userAgent: text(raw.userAgent), ip: text(raw.ip) };
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
