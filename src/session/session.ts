/**
 * A session as a plain value: id, data and what this request changed. It knows nothing of
 * storage; the SessionFactory loads and flushes it through an engine.
 *
 * It also keeps the session within `max_session_size`, at the write that would pass it, cheaply:
 * it knows the size the engine reported and adds up the JSON each write adds, an upper bound
 * that costs no serializing. Only when that bound passes the limit is the data measured exactly
 * (then the bound restarts from the exact size). The engine checks the merged result at flush.
 */
import { SessionTooLargeError } from '../errors.ts';
import type { SessionChange, SessionValues } from './engine.ts';
import { defineOwn, toSessionJson } from './session-json.ts';

/**
 * The shape of session data. Empty and open: an app declares its keys by declaration merging,
 * and `session('user')` is then typed:
 * ```ts
 * declare module 'quickstep' { interface SessionData { user: string; count: number } }
 * ```
 */
export interface SessionData {}

/** A key of the session: the declared keys of SessionData are typed, any other string is allowed. */
export type SessionKey = (keyof SessionData & string) | (string & {});
/** The value type of a session key. */
export type SessionValue<K extends string> = K extends keyof SessionData ? SessionData[K] : unknown;

export class Session {
  #id: string;
  readonly #data: SessionValues;
  readonly #isNew: boolean;
  #change: SessionChange | undefined;
  readonly #maxSize: number;
  /** Bytes of the data as JSON when last known exactly (undefined: not measured yet). */
  #size: number | undefined;
  /** At most how many bytes the writes since then added (each counted as its key and JSON). */
  #growth = 0;
  /** When the session cookie expires (ms since epoch), or undefined for a browser-session cookie. */
  expires: number | undefined;

  /**
   * Use SessionFactory; `data` is owned by the session from now on. `maxSize` is
   * max_session_size in bytes, `size` the stored JSON's size as the engine reported it.
   */
  constructor(id: string, data: SessionValues, isNew: boolean, maxSize = Infinity, size?: number) {
    this.#id = id;
    this.#data = data;
    this.#isNew = isNew;
    this.#maxSize = maxSize;
    this.#size = size;
  }

  get id(): string {
    return this.#id;
  }

  /** Created by this request and not stored yet. */
  get isNew(): boolean {
    return this.#isNew;
  }

  /** Something was written, deleted, incremented or cleared in this request. */
  get isDirty(): boolean {
    const c = this.#change;
    return c !== undefined && (c.cleared || c.set.size > 0 || c.deleted.size > 0 || c.incremented.size > 0);
  }

  /** This request's changes, for the engine's flush. */
  get change(): SessionChange {
    return (this.#change ??= { isNew: this.#isNew, cleared: false, set: new Map(), deleted: new Set(), incremented: new Map() });
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
    const { json, copy } = toSessionJson(key, value);
    if (this.#maxSize !== Infinity) this.#checkSize(key, json, copy);
    defineOwn(this.#data, key, copy);
    const change = this.change;
    change.deleted.delete(key);
    change.incremented.delete(key);
    change.set.set(key, json);
  }

  delete(key: SessionKey): void {
    delete this.#data[key];
    const change = this.change;
    change.set.delete(key);
    change.incremented.delete(key);
    change.deleted.add(key);
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

  /** Removes every key (the session and its id stay). */
  clear(): void {
    for (const key of Object.keys(this.#data)) delete this.#data[key];
    this.#size = 2;
    this.#growth = 0;
    this.#change = { isNew: this.#isNew, cleared: true, set: new Map(), deleted: new Set(), incremented: new Map() };
  }

  /** A copy of the data, safe to keep or change. */
  toJSON(): SessionValues {
    return structuredClone(this.#data);
  }

  /** Gives the session a new id (SessionFactory.changeId does the storage side). */
  rename(id: string): void {
    this.#id = id;
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

/** Bytes of `data` as stored: its JSON in UTF-8. */
function jsonBytes(data: SessionValues): number {
  return Buffer.byteLength(JSON.stringify(data));
}
