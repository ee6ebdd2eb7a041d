/**
 * What a session storage engine implements, and how an engine is described to Quickstep
 * (its options and a constructor). An engine only stores: ids, cookies and policy belong to the
 * SessionFactory. Engines are found by name in engine-registry.ts; third-party engines check
 * themselves with the contract suite exported as `quickstep/engine-contract`.
 */
import type { OptionSpec } from '../base/schema.ts';

/** A session's data: a plain JSON object. */
export type SessionValues = Record<string, unknown>;

/** What an engine gives back for an id it knows. */
export interface SessionRecord {
  data: SessionValues;
  /**
   * The stored JSON's size, if the engine has it at hand (its text's length will do): lets a
   * write check `max_session_size` without serializing the session again. Optional.
   */
  size?: number;
}

/**
 * What one request changed in a session. The engine applies it to what is stored *now*, so
 * concurrent requests that touch different keys all keep their writes and increments add up.
 *
 * Order of application: if `cleared`, start from `{}`, else from the stored data; then remove
 * `deleted`, then assign `set`, then add `incremented` (a missing or non-number stored value
 * counts as 0), then append `pushed` (a missing or non-array stored value counts as `[]`; with
 * `max`, only the last `max` items are kept). A key appears in at most one of `set`, `deleted`,
 * `incremented`, `pushed`.
 */
export interface SessionChange {
  /** The session was created by this request: the engine must claim the id (fail if taken). */
  isNew: boolean;
  cleared: boolean;
  /** key -> the value as JSON text (already checked to be JSON-safe, already serialized). */
  set: Map<string, string>;
  deleted: Set<string>;
  /** key -> amount to add. */
  incremented: Map<string, number>;
  /** key -> items to append to the stored array (each as JSON text), and how many to keep. */
  pushed: Map<string, PushedItems>;
  /**
   * The session changed owner in this request (`login(userId)`): an engine with the `owners`
   * capability removes it from `previous`'s index (if any) and adds it to `next`'s, in the same
   * atomic step as the write where it can. Absent on every other flush.
   */
  owner?: OwnerChange;
}

/** A login: the owner a session leaves (undefined: it had none) and the one it joins. */
export interface OwnerChange {
  previous: string | undefined;
  next: string;
}

/** A live session of one owner, as `ownedSessions` gives it. */
export interface OwnedSession {
  /** The id the engine stores it under (the store key the factory gave it). */
  id: string;
  record: SessionRecord;
}

/** Items a request appended to one array key. */
export interface PushedItems {
  /** Each item as JSON text, in order. */
  items: string[];
  /** Keep only the last `max` items after appending; undefined: all. */
  max: number | undefined;
}

/**
 * The storage contract.
 *
 * - `retrieve`: the stored data, with the sliding expiry refreshed (to `sessionDuration` from the
 *   EngineContext, which is also the ttl the factory flushes with); `undefined` for an unknown or
 *   expired id (never an exception). Throws `SessionStoreError` when the store cannot answer.
 * - `flush`: apply `change` (see SessionChange) and set the expiry to `ttlSeconds` from now. For an
 *   id that no longer exists (destroyed or expired meanwhile) and `change.isNew === false`, it
 *   does nothing: a late write must not bring a destroyed session back. When the result's JSON
 *   would be over `maxSize` bytes (`max_session_size`), it stores nothing and throws
 *   SessionTooLargeError: concurrent requests merge here, past the checks each one made.
 * - `destroy`: delete; a no-op for an unknown id.
 * - `sessions`: every stored id, streamed (never a blocking full scan like KEYS).
 * - `changeId`: move the data to `newId`; `oldId` is invalid afterwards. A no-op when `oldId` is
 *   unknown. Engines without it get destroy + create from the factory.
 * - `take`: remove `key` from the stored session and return its value as JSON text, atomically:
 *   of two concurrent takes only one gets the value (a flash message is shown once). Undefined
 *   when the session or the key is not there. The expiry is left as it is. Engines without it
 *   get a read and a delete in the change log (two tabs may then both see a flash).
 * - `flushUnread`: `flush` for a request that wrote keys without reading the session (optional;
 *   it saves that request its read). Applies `change` (never new) only if the session exists and
 *   is within `expiry.absolute` of its `__quickstep.created` (session-meta.ts); the expiry is the
 *   session's own lifetime (`__quickstep.remember`) or `expiry.idle`, cut to what is left of
 *   absolute. Answers the session's own lifetime, or undefined, storing nothing, for an unknown,
 *   expired or past-absolute id: the factory then starts a new session, as a read would have.
 *   Checks `expiry.maxSize` as `flush` does, and follows changeId's forwards only for a write
 *   made before the change (`expiry.writtenAt`).
 * - `close`: release connections and timers.
 * - `openCookie` / `sealCookie`, together: an engine with no server state (Cookie) holds the
 *   session in the cookie itself. The factory then never calls retrieve/flush/destroy/changeId:
 *   it opens the request's cookie value with `openCookie` and sends `sealCookie`'s value as the
 *   cookie of a session the request changed (the cookie is the flush). See SealedSession.
 *
 * The owner index (the `owners` capability, all four or none; the factory refuses `login()`
 * on an engine without `ownedSessions` and `destroyOwned`):
 * - `flush` applies `change.owner` (see SessionChange); `destroy(id, owner)` also leaves the
 *   owner's index; `changeId(oldId, newId, owner)` keeps the session in its owner's index under
 *   the new id.
 * - `ownedSessions(owner)`: every live session in the owner's index whose stored meta still
 *   names that owner (session-meta.ts `ownerOf`); members whose session is gone are pruned here.
 *   Never slides an expiry. The index may hold stale members (pruned lazily), never miss a live
 *   session of its owner.
 * - `destroyOwned(owner, except)`: ends every live session of `owner` but `except` (an id) and
 *   returns how many it ended.
 *
 * Ids are opaque to an engine: with `hash_ids` the factory hands it store keys (43 characters,
 * SHA-256 of the id, store-key.ts) instead of ids, and it must treat them alike (the
 * `hashedKeys` capability of the contract).
 */
export interface SessionEngine {
  retrieve(id: string): Promise<SessionRecord | undefined>;
  flush(id: string, change: SessionChange, ttlSeconds?: number, maxSize?: number): Promise<void>;
  destroy(id: string, owner?: string): Promise<void>;
  sessions(): AsyncIterable<string>;
  changeId?(oldId: string, newId: string, owner?: string): Promise<void>;
  ownedSessions?(owner: string): Promise<OwnedSession[]>;
  destroyOwned?(owner: string, except?: string): Promise<number>;
  take?(id: string, key: string): Promise<string | undefined>;
  flushUnread?(id: string, change: SessionChange, expiry: UnreadExpiry): Promise<UnreadFlushed | undefined>;
  close?(): Promise<void>;
  /**
   * When set, all the operations of one request together settle within this many ms: past it,
   * the request's pending or next operation fails with SessionStoreError (a 503; RequestSession
   * holds the request to it), so a route that reads and then writes cannot take twice as long.
   * Redis on a Cluster or with Sentinel: command_timeout.
   */
  readonly requestDeadlineMs?: number | undefined;
  /** The session sealed in a cookie value; undefined for anything else (never an exception). */
  openCookie?(value: string): SealedSession | undefined;
  /**
   * A cookie value holding session `id` with `json` (its data, meta included, as JSON text),
   * which opens until `ttlSeconds` from now and no longer.
   */
  sealCookie?(id: string, json: string, ttlSeconds: number): string;
}

/**
 * What `openCookie` found in a cookie value. Its id is checked by the factory as any other id,
 * and names the session only (hooks, `session().id`): it is never a store key.
 */
export interface SealedSession {
  id: string;
  data: SessionValues;
  /** The sealed JSON's length (as SessionRecord.size). */
  size: number;
  /** When it stops opening (ms since epoch): the idle expiry sealed with it. */
  expiresAt: number;
}

/** The policy flushUnread applies from the stored meta (the factory's rules, see ttlFor). */
export interface UnreadExpiry {
  /** session_duration in seconds: the idle timeout of a session without its own lifetime. */
  idle: number;
  /** absolute_duration in seconds; undefined: none. */
  absolute: number | undefined;
  /** max_session_size in bytes; Infinity: none. */
  maxSize: number;
  /**
   * When the request made its first write (ms since epoch, the app's clock): a changeId's
   * forward is followed only for a write made before the id changed. A request that held the old
   * id then is one a read-then-write request would be; one that writes with the old id after the
   * change never held the session (a fixed or stolen id) and gets a new session instead.
   */
  writtenAt: number;
}

/** flushUnread's answer for a session it updated. */
export interface UnreadFlushed {
  /** The session's own lifetime in seconds (remember()), for its cookie's Expires. */
  lifetime: number | undefined;
}

/** Everything an engine needs from its surroundings when it is built. */
export interface EngineContext {
  /** `session_duration` in seconds: the sliding expiry the engine enforces. */
  sessionDuration: number;
  /** Logs one line at the given level. */
  log(level: 'debug' | 'info' | 'warning' | 'error', message: string): void;
}

/** How an engine is registered: its own options (validated at start-up) and a constructor. */
export interface SessionEngineDefinition<Options extends object = Record<string, unknown>> {
  /** The engine's own keys under `engines.session.<Name>` (the cookie keys are the factory's). */
  options: { [K in keyof Options]-?: OptionSpec<Options[K]> };
  /**
   * Checks rules that span several keys (e.g. "name is required with sentinels") at start-up;
   * throws a ConfigError. `where` is the file and key path the options came from.
   */
  validate?(options: Options, where: { file: string; path: string }): void;
  /**
   * true when the sessions live inside this one process (Memory): `workers` above 1 is then a
   * ConfigError, since each worker would have sessions of its own that the others cannot read.
   */
  processLocal?: boolean;
  create(options: Options, context: EngineContext): SessionEngine;
}
