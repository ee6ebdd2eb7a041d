/**
 * The one interface the SessionFactory holds for its engine, whichever kind it is: a store
 * (backend/stored.ts) or a sealer (backend/sealed.ts). createApp tells the kinds apart once, when
 * the app is built, and the stored backend resolves the store's capabilities into objects that
 * are there or not; from then on nothing asks which kind it has, and no call needs a `!`.
 *
 * Also what both kinds share: the session a stored or sealed JSON object becomes, its store
 * expiry, and `guard`, which turns an engine's failure into a SessionStoreError.
 */
import { HttpError, SessionStoreError } from '../../base/errors.ts';
import type { SessionChange, SessionEngine, SessionValues, UnreadFlushed } from '../engine.ts';
import { Session } from '../session.ts';
import { appValues, metaOf, ttlFor, type SessionDevice } from '../session-meta.ts';
import type { SessionPolicy } from '../settings.ts';
import type { UserSession } from '../user-sessions.ts';

/** What the factory does through its engine; ids in, store keys (where there are any) inside. */
export interface SessionBackend {
  /** The engine as its definition created it, for tests and tools that look inside. */
  readonly engine: SessionEngine;
  /** The engine's class name, for messages that name the engine. */
  readonly name: string;
  /**
   * A flush applies the change log to what the store holds now (a store), rather than writing the
   * whole session (a sealer): what a flush's trace calls `merged` (base/tracing.ts).
   */
  readonly merges: boolean;
  /** The session the request's cookie value names, or undefined (malformed, unknown, expired). */
  retrieve(cookieValue: string): Promise<Session | undefined>;
  /** Stores what this request changed in a dirty session; `device` recorded on an owned one. */
  flush(session: Session, device: SessionDevice | undefined): Promise<void>;
  /**
   * Deletes the session; `owner` (the session's) also takes it out of the owner's index. `session`,
   * when the request has it loaded: a sealed backend denies its cookies until they would expire.
   */
  destroy(id: string, owner: string | undefined, session?: Session): Promise<void>;
  /**
   * Gives `session` the id `newId`; the session to use from now on. A store with
   * `changeIdAtFlush` moves it at its flush (Session.movedFrom) unless settleMove comes first.
   */
  changeId(session: Session, newId: string): Promise<Session>;
  /**
   * Moves a session whose move waits for its flush (Session.movedFrom) now: before any store
   * operation of the request but that flush touches it. Resolves at once when none waits.
   */
  settleMove(session: Session): Promise<void>;
  /** The session cookie's value for `session`: its id, or the session sealed. */
  cookieValue(session: Session): string;
  /** The cookie must carry this session again though nothing else asks for it (a sealed one). */
  mustReseal(session: Session): boolean;
  /** Atomic take, when the engine has it. */
  readonly take: BackendTake | undefined;
  /** Writes stored without a read first, when the engine has it. */
  readonly unreadFlush: BackendUnreadFlush | undefined;
  /** The owner index, when the engine has it. */
  readonly owners: BackendOwners | undefined;
  /**
   * Renewal (renewal_duration) by the factory at the commit, for a store with the `renewal`
   * capability. Absent, and the backend does not renew itself: renewal_duration is a ConfigError
   * at start-up.
   */
  readonly renewal?: BackendRenewal | undefined;
  /**
   * The backend renews on its own where it opens a session (a sealer: a reseal under an id derived
   * from the old one, so concurrent tabs agree on it: backend/sealed.ts); the factory does not.
   */
  readonly renewsItself?: boolean;
  /** All the store operations of one request settle within this many ms (StoredEngine). */
  readonly requestDeadlineMs: number | undefined;
  close(): Promise<void>;
}

/** Renewal by session id (docs/design.md#renewal-with-a-grace-window). */
export interface BackendRenewal {
  /**
   * Gives `session` the id `newId`, its old id forwarded for the grace window; the session to
   * use from now on, or undefined when a concurrent request renewed it first (keep the old one:
   * its writes are forwarded, and that request's response carries the new id).
   */
  renew(session: Session, newId: string): Promise<Session | undefined>;
}

/** AtomicTake by session id. */
export interface BackendTake {
  take(id: string, key: string): Promise<string | undefined>;
}

/** UnreadFlush by session id, with the policy's expiry rules filled in. */
export interface BackendUnreadFlush {
  /** `writtenAt`: when the request first wrote (see UnreadExpiry). */
  flushUnread(id: string, change: SessionChange, writtenAt: number): Promise<UnreadFlushed | undefined>;
}

/** OwnerIndex by session id, as userSessions and destroyUserSessions use it. */
export interface BackendOwners {
  /** The live sessions of `owner`, newest activity first; `currentId`'s is marked `current`. */
  list(owner: string, currentId: string | undefined): Promise<UserSession[]>;
  /** Ends every live session of `owner` but `exceptId`'s; how many it ended. */
  destroy(owner: string, exceptId: string | undefined): Promise<number>;
  /** Ends the live sessions of `owner` whose userSessions handle is in `handles`; how many it ended. */
  end(owner: string, handles: readonly string[]): Promise<number>;
}

/**
 * The Session for stored `data` under `id`, or undefined when it is past `absolute_duration`
 * since its creation (it then reads as unknown, however recently used).
 */
export function storedSession(policy: SessionPolicy, id: string, data: SessionValues, size: number | undefined): Session | undefined {
  const meta = metaOf(data);
  const absolute = policy.absolute_duration;
  if (meta !== undefined && absolute !== undefined && meta.created + absolute * 1000 <= Date.now()) return undefined;
  return new Session(id, appValues(data), false, policy.max_session_size, size, meta);
}

/**
 * Seconds the store keeps `session` from now without use: its idle timeout (its own lifetime, or
 * session_duration), cut to what is left of absolute_duration.
 */
export function ttlSeconds(policy: SessionPolicy, session: Session): number {
  const meta = { created: session.createdAt, ...(session.lifetime === undefined ? {} : { remember: session.lifetime }) };
  return Math.max(1, ttlFor(meta, policy.session_duration, policy.absolute_duration, Date.now()));
}

/**
 * Runs an engine call; anything it throws or rejects with becomes a SessionStoreError (503) with
 * the cause kept, except an HttpError the engine chose (SessionTooLargeError: 413). `then`, if
 * given, gets the call's value in the same step (one Promise less than `guard(...).then(then)`,
 * with the same outcome: what `then` throws is not the store's failure and stays as it is).
 * Not an async function, and no named closure (tsx's keepNames wraps each one in a defineProperty
 * call): this is on every session request's path, where each extra Promise costs.
 */
export function guard<T>(action: string, call: () => Promise<T>): Promise<T>;
export function guard<T, U>(action: string, call: () => Promise<T>, then: (value: T) => U | PromiseLike<U>): Promise<U>;
export function guard<T, U>(action: string, call: () => Promise<T>, then?: (value: T) => U | PromiseLike<U>): Promise<T | U> {
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(then, error => rethrowAsStoreError(action, error));
}

function rethrowAsStoreError(action: string, error: unknown): never {
  if (error instanceof HttpError) throw error;
  throw new SessionStoreError(`The session store could not ${action} the session`, { cause: error });
}

/** A settled Promise of undefined, shared: the answer of calls with nothing to do. */
export const NOTHING: Promise<undefined> = Promise.resolve(undefined);
