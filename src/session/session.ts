/**
 * A session as a plain value: id, data and what this request changed. It knows nothing of
 * storage; the SessionFactory loads and flushes it through an engine.
 *
 * It also keeps the session within `max_session_size`, at the write that would pass it, cheaply:
 * it knows the size the engine reported and adds up the JSON each write adds, an upper bound
 * that costs no serializing. Only when that bound passes the limit is the data measured exactly
 * (then the bound restarts from the exact size). The engine checks the merged result at flush.
 */
import { SessionTooLargeError } from '../base/errors.ts';
import type { SessionChange, SessionValues } from './engine.ts';
import { defineOwn, toSessionJson } from './session-json.ts';
import type { PushItem, SessionKey, SessionValue } from './session-data.ts';
import type { DbscBinding } from './dbsc/binding.ts';
import { DBSC_KEY, DEVICE_KEY, META_KEY, metaJson, OWNER_KEY, RESERVED_KEYS, type SessionDevice, type SessionMeta } from './session-meta.ts';

export class Session {
  #id: string;
  /** See movedFrom. */
  #movedFrom: string | undefined;
  readonly #data: SessionValues;
  readonly #isNew: boolean;
  #change: SessionChange | undefined;
  readonly #maxSize: number;
  /** Bytes of the data as JSON when last known exactly (undefined: not measured yet). */
  #size: number | undefined;
  /** At most how many bytes the writes since then added (each counted as its key and JSON). */
  #growth = 0;
  /** Creation time and own lifetime (session-meta.ts); written with the session's first flush. */
  #meta: SessionMeta;
  /** remember() or forget() was called in this request: the cookie must be sent again. */
  #lifetimeChanged = false;
  /** See storeKey. */
  #storeKey: string | undefined;

  /**
   * Use SessionFactory; `data` is owned by the session from now on. `maxSize` is
   * max_session_size in bytes, `size` the stored JSON's size as the engine reported it.
   */
  constructor(id: string, data: SessionValues, isNew: boolean, maxSize = Infinity, size?: number, meta?: SessionMeta) {
    this.#id = id;
    this.#data = data;
    this.#isNew = isNew;
    this.#maxSize = maxSize;
    this.#size = size;
    this.#meta = meta ?? { created: Date.now() };
    // A new session, one stored before meta existed or in an older format (session-meta.ts
    // UPGRADES): its meta goes out with its next flush, never with a read of its own.
    this.#metaUnsaved = isNew || meta === undefined || meta.storedFormat !== undefined;
  }

  /** The meta is not stored yet (new session, or stored before meta existed). */
  #metaUnsaved: boolean;

  /** When the session was first stored (ms since epoch); kept by changeSessionId. */
  get createdAt(): number {
    return this.#meta.created;
  }

  /** Made by a request over HTTPS (session-meta.ts): never read under a previous cookie name. */
  get madeOverHttps(): boolean {
    return this.#meta.https === true;
  }

  /** The session's own lifetime in seconds (remember()), or undefined for the policy's. */
  get lifetime(): number | undefined {
    return this.#meta.remember;
  }

  /** remember() or forget() changed the lifetime in this request. */
  get lifetimeChanged(): boolean {
    return this.#lifetimeChanged;
  }

  /**
   * "Remember me": from now on this session has a persistent cookie that lasts `seconds`, and
   * it expires after `seconds` without use instead of session_duration (absolute_duration still
   * applies). Stored with the session, so later requests keep it.
   */
  remember(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds <= 0) throw new TypeError(`session.remember(${String(seconds)}): expected a positive whole number of seconds`);
    this.#meta = { ...this.#meta, remember: seconds };
    this.#saveMeta();
  }

  /** Back to the policy's lifetime: a browser-session cookie (unless cookie_duration is set). */
  forget(): void {
    const { remember: _, ...kept } = this.#meta;
    this.#meta = kept;
    this.#saveMeta();
  }

  /** The session's CSRF token (csrf-token.ts), or undefined before the first csrfToken(). */
  get csrfToken(): string | undefined {
    return this.#meta.csrf;
  }

  /** Keeps `token` as the session's CSRF token; stored with the next flush (no new cookie). */
  setCsrfToken(token: string): void {
    this.#meta = { ...this.#meta, csrf: token };
    this.#metaUnsaved = false;
    this.change.set.set(META_KEY, metaJson(this.#meta));
  }

  /**
   * When the user last authenticated on this session (the last `login()`, a re-authentication
   * included), or undefined: never logged in, or logged in before Quickstep recorded it. What a
   * `{ recentAuth: seconds }` route checks (docs/design.md#recent-authentication).
   */
  get authenticatedAt(): Date | undefined {
    const at = this.#meta.auth;
    return at === undefined ? undefined : new Date(at);
  }

  /** Records an authentication now (RequestSession.login); stored with the flush. */
  markAuthenticated(at: number): void {
    this.#meta = { ...this.#meta, auth: at };
    // #metaUnsaved is left as it is: after a clear() the flush must still put the owner back.
    this.change.set.set(META_KEY, metaJson(this.#meta));
  }

  /** When the session's id was last renewed (renewal_duration), else when it was created (ms). */
  get renewedAt(): number {
    return Math.max(this.#meta.renewed ?? 0, this.#meta.auth ?? 0, this.#meta.created);
  }

  /** Records a renewal now (RequestSession's commit); stored with the flush under the new id. */
  markRenewed(at: number): void {
    this.#meta = { ...this.#meta, renewed: at };
    this.change.set.set(META_KEY, metaJson(this.#meta));
  }

  #arrivedRenewed = false;

  /**
   * The session was read through the old id of a renewal, within its grace window: it has the
   * new id, which the response must give the browser (docs/design.md#renewal-with-a-grace-window).
   */
  get arrivedRenewed(): boolean {
    return this.#arrivedRenewed;
  }

  /** Marks the session as read through a renewal's old id (the stored backend does, on read). */
  markArrivedRenewed(): void {
    this.#arrivedRenewed = true;
  }

  /** The user id given to login() (in this request or an earlier one), or undefined. */
  get owner(): string | undefined {
    return this.#meta.owner;
  }

  /**
   * Records `owner` in the meta and, in the change, that the session leaves its previous owner's
   * index and joins this one's (the engine does both with the flush). Use RequestSession.login.
   */
  setOwner(owner: string): void {
    const previous = this.#meta.owner;
    this.#meta = { ...this.#meta, owner };
    const change = this.change;
    change.set.set(OWNER_KEY, JSON.stringify(owner));
    // Two logins in one request: the index still holds the session under the owner before both.
    change.owner = { previous: change.owner ? change.owner.previous : previous, next: owner };
  }

  /** The session's device binding (dbsc/binding.ts), or undefined when it has none. */
  get dbsc(): DbscBinding | undefined {
    return this.#meta.dbsc;
  }

  /** Keeps `binding` (undefined: ends it); written with the next flush, in a key of its own. */
  setDbsc(binding: DbscBinding | undefined): void {
    const { dbsc: _, ...rest } = this.#meta;
    this.#meta = binding === undefined ? rest : { ...rest, dbsc: binding };
    this.change.set.set(DBSC_KEY, binding === undefined ? 'null' : JSON.stringify(binding));
  }

  /** Writes the client of this write (an owned session's flush does: userSessions shows it). */
  recordDevice(device: SessionDevice): void {
    this.change.set.set(DEVICE_KEY, JSON.stringify(device));
  }

  /** Puts the meta in this request's change (done at the first flush of a session, too). */
  saveMetaIfUnsaved(): void {
    if (!this.#metaUnsaved) return;
    this.change.set.set(META_KEY, metaJson(this.#meta));
    // After clear(): the owner goes back with the meta, so the session stays its owner's.
    const owner = this.#meta.owner;
    if (owner !== undefined && !this.change.set.has(OWNER_KEY)) this.change.set.set(OWNER_KEY, JSON.stringify(owner));
    const dbsc = this.#meta.dbsc;
    if (dbsc !== undefined && !this.change.set.has(DBSC_KEY)) this.change.set.set(DBSC_KEY, JSON.stringify(dbsc));
  }

  #saveMeta(): void {
    this.#lifetimeChanged = true;
    this.#metaUnsaved = false;
    this.change.set.set(META_KEY, metaJson(this.#meta));
  }

  get id(): string {
    return this.#id;
  }

  /** Created by this request and not stored yet. */
  get isNew(): boolean {
    return this.#isNew;
  }

  /** The session must be flushed: its data changed (hasChanges), or its move waits for the flush (movedFrom). */
  get isDirty(): boolean {
    return this.#movedFrom !== undefined || this.hasChanges;
  }

  /** Something was written, deleted, incremented or cleared in this request. */
  get hasChanges(): boolean {
    const c = this.#change;
    return c !== undefined && (c.cleared || c.set.size > 0 || c.deleted.size > 0 || c.incremented.size > 0 || c.pushed.size > 0);
  }

  /** This request's changes, for the engine's flush. */
  get change(): SessionChange {
    return (this.#change ??= emptyChange(this.#isNew, false));
  }

  get<K extends SessionKey>(key: K): SessionValue<K> | undefined {
    return (Object.hasOwn(this.#data, key) ? this.#data[key] : undefined) as SessionValue<K> | undefined;
  }

  has(key: SessionKey): boolean {
    return Object.hasOwn(this.#data, key);
  }

  /**
   * Stores `value` under `key`; `undefined` deletes the key (as Dancer2's `session key => undef`).
   * Throws now, not at flush time, and changes nothing: a TypeError for a value JSON cannot hold,
   * a SessionTooLargeError (413) when the session would pass max_session_size.
   */
  set<K extends SessionKey>(key: K, value: SessionValue<K> | undefined): void {
    if (value === undefined) return this.delete(key);
    const { json, copy } = toWritableJson(key, value);
    if (this.#maxSize !== Infinity) this.#checkSize(key, json, copy);
    defineOwn(this.#data, key, copy);
    const change = this.change;
    change.deleted.delete(key);
    change.incremented.delete(key);
    change.pushed.delete(key);
    change.set.set(key, json);
  }

  delete(key: SessionKey): void {
    delete this.#data[key];
    const change = this.change;
    change.set.delete(key);
    change.incremented.delete(key);
    change.pushed.delete(key);
    change.deleted.add(key);
  }

  /**
   * Appends `value` to the array at `key` (a missing or non-array value counts as `[]`); with
   * `max`, only the last `max` items are kept ("recently viewed"). Returns the array as this
   * request sees it. The engine appends to what is stored at flush time, so concurrent pushes
   * from other requests all survive, as increments add up.
   */
  push<K extends SessionKey>(key: K, value: PushItem<K>, options: { max?: number } = {}): PushItem<K>[] {
    const max = options.max;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new TypeError(`session.push("${key}", value, { max }): max must be a positive integer, got ${String(max)}`);
    const { json, copy } = toSessionJson(key, value);
    const current = Object.hasOwn(this.#data, key) ? this.#data[key] : undefined;
    const list = Array.isArray(current) ? [...current, copy] : [copy];
    const kept = max !== undefined && list.length > max ? list.slice(list.length - max) : list;
    if (this.#maxSize !== Infinity) this.#checkSize(key, JSON.stringify(kept), kept);
    defineOwn(this.#data, key, kept);
    const change = this.change;
    if (change.set.has(key) || change.deleted.has(key) || change.incremented.has(key)) {
      // Written earlier in this request: the request's own value wins, as a plain set.
      change.deleted.delete(key);
      change.incremented.delete(key);
      change.set.set(key, JSON.stringify(kept));
    } else {
      const pushed = change.pushed.get(key);
      if (pushed) {
        pushed.items.push(json);
        if (max !== undefined) pushed.max = max;
      } else {
        change.pushed.set(key, { items: [json], max });
      }
    }
    return kept as PushItem<K>[];
  }

  /**
   * Adds `by` to a number (a missing key counts as 0) and returns the new value. The engine adds
   * `by` to what is stored at flush time, so concurrent increments from other requests add up.
   */
  increment(key: SessionKey, by = 1): number {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new TypeError(`session.increment("${key}", by): by must be a finite number, got ${String(by)}`);
    }
    const current = Object.hasOwn(this.#data, key) ? this.#data[key] : 0;
    if (typeof current !== 'number') {
      throw new TypeError(`session.increment("${key}"): the stored value is a ${typeof current}, not a number`);
    }
    const next = current + by;
    this.change.pushed.delete(key);
    // A number's JSON is at most 24 characters, plus its key: the bound stays a bound.
    this.#growth += key.length + 28;
    defineOwn(this.#data, key, next);
    const change = this.change;
    if (change.set.has(key) || change.deleted.has(key)) {
      // Written earlier in this request: the request's own value wins, as a plain set.
      change.deleted.delete(key);
      change.set.set(key, JSON.stringify(next));
    } else {
      change.incremented.set(key, (change.incremented.get(key) ?? 0) + by);
    }
    return next;
  }

  /** Forgets `key` here only: the engine already removed it from the store (engine.take). */
  dropTaken(key: SessionKey): void {
    delete this.#data[key];
  }

  /** Removes every key (the session and its id stay). */
  clear(): void {
    for (const key of Object.keys(this.#data)) delete this.#data[key];
    this.#size = 2;
    this.#growth = 0;
    const owner = this.#change?.owner;
    this.#change = emptyChange(this.#isNew, true);
    // A login earlier in this request still joins its owner's index.
    if (owner) this.#change.owner = owner;
    // The meta is not data: it stays, written again over the cleared session at the flush.
    this.#metaUnsaved = true;
  }

  /**
   * The data with the meta under `__quickstep` (and the owner under `__quickstep_owner`), as JSON text: the whole session as a sealing
   * engine (Cookie) puts it in the cookie.
   */
  storedJson(): string {
    const data = JSON.stringify(this.#data);
    const owner = this.#meta.owner;
    // The owner (login) too: a sealed session has no store to keep it in.
    const meta = `"${META_KEY}":${metaJson(this.#meta)}${owner === undefined ? '' : `,"${OWNER_KEY}":${JSON.stringify(owner)}`}`;
    return data === '{}' ? `{${meta}}` : `{${meta},${data.slice(1)}`;
  }

  /** A copy of the data, safe to keep or change. */
  toJSON(): SessionValues {
    return structuredClone(this.#data);
  }

  /** Gives the session a new id (SessionFactory.changeId does the storage side). */
  rename(id: string): void {
    this.#id = id;
    this.#storeKey = undefined;
  }

  /**
   * The key the store keeps this session under, as the backend derived it from the current id
   * (its SHA-256 with `hash_ids`: backend/stored.ts), so a read and its flush hash the id once;
   * undefined until a backend says it, and again once the id changes. A field of the session
   * rather than a WeakMap beside it: a WeakMap entry cost 0.4 µs per read on Node 26, more than
   * the 0.27 µs hash it saved a write.
   */
  get storeKey(): string | undefined {
    return this.#storeKey;
  }

  /** Remembers the store key of the current id (see storeKey). */
  keyedAs(key: string): void {
    this.#storeKey = key;
  }

  /**
   * The id the store still keeps this session under, while its move to `id` waits for the
   * flush (a store with `changeIdAtFlush`: backend/stored.ts); undefined when there is none.
   */
  get movedFrom(): string | undefined {
    return this.#movedFrom;
  }

  /**
   * Gives the session the id `id` now and leaves the store's side to the flush, which must then
   * happen: the session counts as dirty. Two in a row move it from where it is stored.
   */
  moveAtFlush(id: string): void {
    this.#movedFrom ??= this.#id;
    this.#id = id;
    this.#storeKey = undefined;
  }

  /** The store moved the session (at its flush, or before another operation on it). */
  moved(): void {
    this.#movedFrom = undefined;
  }

  /** Throws SessionTooLargeError, changing nothing, if setting `key` to `json` passes the limit. */
  #checkSize(key: string, json: string, copy: unknown): void {
    const added = key.length + json.length + 4; // "key":json,
    const size = (this.#size ??= jsonBytes(this.#data));
    if (size + this.#growth + added <= this.#maxSize) {
      this.#growth += added;
      return;
    }
    // Near the limit: measure what the session would hold, then put the old value back if it is over.
    const data = this.#data;
    const had = Object.hasOwn(data, key);
    const old = data[key];
    defineOwn(data, key, copy);
    const exact = jsonBytes(data);
    if (exact > this.#maxSize) {
      if (had) defineOwn(data, key, old);
      else delete data[key];
      throw new SessionTooLargeError(exact, this.#maxSize, key);
    }
    this.#size = exact;
    this.#growth = 0;
  }
}

/** A value as `set` stores it: a TypeError for the reserved key or a value JSON cannot hold. */
function toWritableJson(key: string, value: unknown): { json: string; copy: unknown } {
  if (RESERVED_KEYS.has(key)) throw new TypeError(`session key "${key}" is reserved for Quickstep's own bookkeeping`);
  return toSessionJson(key, value);
}

/**
 * The checks `set` makes, for a write recorded before the session is read
 * (RequestSession.write): toWritableJson's, and a SessionTooLargeError when the key and value
 * alone pass `maxSize` (the engine checks the merged result at the flush).
 */
export function checkedWrite(key: string, value: unknown, maxSize: number): { json: string; copy: unknown } {
  const written = toWritableJson(key, value);
  const size = Buffer.byteLength(written.json) + Buffer.byteLength(key) + 6; // {"key":json}
  if (size > maxSize) throw new SessionTooLargeError(size, maxSize, key);
  return written;
}

/** A SessionChange that changes nothing yet: the start of every change log. */
export function emptyChange(isNew: boolean, cleared: boolean): SessionChange {
  return { isNew, cleared, set: new Map(), deleted: new Set(), incremented: new Map(), pushed: new Map() };
}

/** Bytes of `data` as stored: its JSON in UTF-8. */
function jsonBytes(data: SessionValues): number {
  return Buffer.byteLength(JSON.stringify(data));
}
