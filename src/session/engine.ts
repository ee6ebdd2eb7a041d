/**
 * The session engine contract, what third-party engines implement, and how an engine is
 * described to Quickstep (its options and a constructor). An engine is of one of two kinds: a
 * store (SessionStore: sessions on a server, four methods) with optional capabilities, each an
 * object it has or not (IdChange, IdRenewal, AtomicTake, UnreadFlush,
 * OwnerIndex); or a sealer
 * (SessionSealer: the session sealed in the cookie, no server state). Ids, cookies and policy
 * belong to the SessionFactory. Engines are found by name in engine-registry.ts; third-party
 * engines check themselves with the contract suite exported as `quickstep/engine-contract`.
 */
import type { OptionSpec } from '../base/schema.ts';
import type { RevocationStore } from './revocation/revocation-store.ts';

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
  /**
   * Set by an engine with the `renewal` capability when `retrieve` was given the old key of a
   * renewal within its grace window: `data` is then the session under the new key, and this is
   * the `forward` given to renewId (opaque to the engine; the factory learns the new id from it).
   */
  renewedTo?: string;
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
 * The store kind of engine: sessions live on a server (Memory, Redis, a database), under the keys
 * the factory gives (ids, or their SHA-256 with `hash_ids`). Four methods, all required; what an
 * engine can do beyond them it offers as capability objects next to its store (see StoredEngine).
 *
 * Ids are opaque to a store: with `hash_ids` the factory hands it store keys (43 characters,
 * SHA-256 of the id, store-key.ts) instead of ids, and it must treat them alike (the
 * `hashedKeys` capability of the contract suite).
 */
export interface SessionStore {
  /**
   * The stored data, with the sliding expiry refreshed (to `sessionDuration` from the
   * EngineContext, which is also the ttl the factory flushes with); `undefined` for an unknown or
   * expired key (never an exception). Throws `SessionStoreError` when the store cannot answer.
   */
  retrieve(key: string): Promise<SessionRecord | undefined>;
  /**
   * Applies `change` (see SessionChange) to what is stored now and sets the expiry to
   * `ttlSeconds` from now. For a key that no longer exists (destroyed or expired meanwhile) and
   * `change.isNew === false`, it does nothing: a late write must not bring a destroyed session
   * back; for `change.isNew` and a key that is taken, it rejects. When the result's JSON would be
   * over `maxSize` bytes (`max_session_size`), it stores nothing and throws SessionTooLargeError:
   * concurrent requests merge here, past the checks each one made. With the `owners` capability
   * it also applies `change.owner`.
   */
  flush(key: string, change: SessionChange, ttlSeconds?: number, maxSize?: number): Promise<void>;
  /**
   * Deletes; a no-op for an unknown key. `owner` (the session's, given only to an engine with
   * the `owners` capability) takes it out of that owner's index too.
   */
  destroy(key: string, owner?: string): Promise<void>;
  /** Every stored key, streamed (never a blocking full scan like KEYS). */
  sessions(): AsyncIterable<string>;
}

/**
 * The `changeId` capability: moves a session to a new key in one step of the store. Without it
 * the factory rewrites the data under the new key and destroys the old one.
 */
export interface IdChange {
  /**
   * Moves the data to `newKey`; `oldKey` is unknown afterwards. A no-op when `oldKey` is unknown.
   * `owner` (the session's, with the `owners` capability): the session stays in its owner's
   * index under the new key. A flush for `oldKey` from a request that read the session before
   * the change must still land under `newKey` (or reject), never nowhere.
   */
  changeId(oldKey: string, newKey: string, owner?: string): Promise<void>;
}

/**
 * The `changeIdAtFlush` capability: IdChange's move and the flush that follows it, in one step
 * of the store (on a single Redis one round trip, so a login is a read and this one flush). With
 * it the factory gives a stored session its new id when the route asks, and moves it in the store
 * at the request's flush; another operation on the session in between (userSessions, take,
 * destroy, ...) has it moved first with IdChange.changeId. Needs `changeId`.
 */
export interface IdChangeAtFlush {
  /**
   * IdChange.changeId(oldKey, key, owner), then SessionStore.flush(key, change, ttlSeconds,
   * maxSize), as one step. `owner`: the session's owner before this change (its index follows
   * the move); `change.owner`, a login, applies after the move. An unknown oldKey stores nothing
   * (a session ended meanwhile stays ended), as the two calls would.
   */
  flushMoved(oldKey: string, key: string, change: SessionChange, ttlSeconds: number, maxSize: number, owner?: string): Promise<void>;
}

/**
 * The `renewal` capability (renewal_duration): a session in use moves to a new key, and its old
 * key keeps reaching it for a grace window, so requests already in flight with the old id lose
 * nothing and never make a second live session (docs/design.md#renewal-with-a-grace-window).
 * The Memory and Redis engines reuse changeId's moved-to pointer for it.
 */
export interface IdRenewal {
  /**
   * Moves the session as IdChange.changeId does (`owner`: it stays in its owner's index under the
   * new key), and leaves at `oldKey` a pointer to `newKey` that, until `grace.seconds` from now,
   * `retrieve(oldKey)` follows (answering the new key's record with `renewedTo: grace.forward`)
   * and that flushes follow as after changeId. After the grace window the old key reads as
   * unknown. Answers false, changing nothing, when `oldKey` holds no session (a concurrent
   * request renewed it first, or it is gone): the caller keeps the old key, whose writes the
   * pointer forwards.
   */
  renewId(oldKey: string, newKey: string, owner: string | undefined, grace: RenewalGrace): Promise<boolean>;
}

/** How long a renewed session's old key still reaches it, and what its reads carry back. */
export interface RenewalGrace {
  /** Seconds the old key is followed by reads (renewal_grace). */
  seconds: number;
  /** Opaque text returned as SessionRecord.renewedTo (the new id, sealed under the old one). */
  forward: string;
}

/**
 * The `take` capability: one key read and removed atomically, so that of two concurrent takes
 * only one gets the value (a flash message is shown once). Without it the factory reads the key
 * and deletes it in the change log (two tabs may then both see a flash).
 */
export interface AtomicTake {
  /**
   * Removes `name` from the session stored at `key` and returns its value as JSON text.
   * Undefined when the session or the name is not there. The expiry is left as it is.
   */
  take(key: string, name: string): Promise<string | undefined>;
}

/**
 * The `flushUnread` capability: a write stored without a read first, which saves a request that
 * only writes (`session(key, value)`) its read: one round trip instead of two.
 */
export interface UnreadFlush {
  /**
   * Applies `change` (never new) only if the session exists and is within `expiry.absolute` of
   * its `__quickstep.created` (session-meta.ts); the expiry is the session's own lifetime
   * (`__quickstep.remember`) or `expiry.idle`, cut to what is left of absolute. Answers the
   * session's own lifetime, or undefined, storing nothing, for an unknown, expired or
   * past-absolute key: the factory then starts a new session, as a read would have. Checks
   * `expiry.maxSize` as `flush` does, and follows changeId's moved-to pointer only for a write made before
   * the change (`expiry.writtenAt`).
   */
  flushUnread(key: string, change: SessionChange, expiry: UnreadExpiry): Promise<UnreadFlushed | undefined>;
}

/**
 * The `owners` capability: the owner index behind `login()`, `userSessions()` and
 * `destroyUserSessions()`; the factory refuses those on an engine without it. Having it also
 * binds the store: `flush` applies `change.owner`, `destroy(key, owner)` leaves the owner's
 * index, and `changeId(old, new, owner)` (if offered) keeps the session in it.
 */
export interface OwnerIndex {
  /**
   * Every live session in the owner's index whose stored meta still names that owner
   * (session-meta.ts `ownerOf`); members whose session is gone are pruned here. Never slides an
   * expiry. The index may hold stale members (pruned lazily), never miss a live session.
   */
  ownedSessions(owner: string): Promise<OwnedSession[]>;
  /** Ends every live session of `owner` but `except` (a key) and returns how many it ended. */
  destroyOwned(owner: string, except?: string): Promise<number>;
}

/**
 * An engine of the store kind, as its definition's `create` gives it: the store, and each
 * capability it has as an object (often the store itself, typed by the capability). A capability
 * is present or absent, never a method that throws: the factory resolves them once, when the app
 * is built, and the contract suite runs the tests of the ones the engine declares.
 */
export interface StoredEngine {
  readonly store: SessionStore;
  readonly changeId?: IdChange | undefined;
  readonly changeIdAtFlush?: IdChangeAtFlush | undefined;
  readonly take?: AtomicTake | undefined;
  readonly flushUnread?: UnreadFlush | undefined;
  readonly owners?: OwnerIndex | undefined;
  readonly renewal?: IdRenewal | undefined;
  /**
   * When set, all the operations of one request together settle within this many ms: past it,
   * the request's pending or next operation fails with SessionStoreError (a 503; RequestSession
   * holds the request to it), so a route that reads and then writes cannot take twice as long.
   * Redis on a Cluster or with Sentinel: command_timeout.
   */
  readonly requestDeadlineMs?: number | undefined;
  /** Releases connections and timers; called once, when the app closes. */
  close?(): Promise<void>;
}

/**
 * The sealer kind of engine: no server state (Cookie). The session travels sealed in the cookie
 * itself: the factory opens the request's cookie value with `openCookie` and sends `sealCookie`'s
 * value as the cookie of a session the request changed (the cookie is the flush). Nothing is
 * stored, so there is nothing to list, revoke or merge: see the Cookie engine's header.
 */
export interface SessionSealer {
  /** The session sealed in a cookie value; undefined for anything else (never an exception). */
  openCookie(value: string): SealedSession | undefined;
  /**
   * A cookie value holding session `id` with `json` (its data, meta included, as JSON text),
   * which opens until `ttlSeconds` from now and no longer; `issuedAt` (ms since epoch), when the
   * id was issued, is sealed with it for the revocation store's not-before. Only characters a cookie value may
   * hold unquoted (RFC 6265 cookie-octet), so it is sent as it is.
   */
  sealCookie(id: string, json: string, ttlSeconds: number, issuedAt?: number): string;
}

/** An engine of the sealer kind, as its definition's `create` gives it. */
export interface SealedEngine {
  readonly sealer: SessionSealer;
  /**
   * The store that makes its cookies revocable (logout, log out everywhere, a credential change:
   * revocation/revocation-store.ts), and with it login() and userSessions(); absent, a copy of a
   * cookie opens until it expires and the owner keywords are refused.
   */
  readonly revocations?: RevocationStore;
  /** Releases what the sealer holds; called once, when the app closes. */
  close?(): Promise<void>;
}

/**
 * What a session engine's `create` gives: a store with its capabilities, or a sealer. An engine
 * only stores: ids, cookies and policy belong to the SessionFactory.
 */
export type SessionEngine = StoredEngine | SealedEngine;

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
  /** When its id was issued (ms since epoch), as sealCookie was given it; undefined in older cookies. */
  issuedAt?: number | undefined;
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
   * moved-to pointer is followed only for a write made before the id changed. A request that held the old
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
  processLocal?: boolean | ((options: Options) => boolean);
  create(options: Options, context: EngineContext): SessionEngine;
}
