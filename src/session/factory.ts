/**
 * SessionFactory: the session policy of one app. It makes ids, checks them before any engine
 * sees them, loads, creates, flushes, destroys and renames sessions through the engine, and
 * renders the session cookie. The per-request rules (laziness, when to flush, which cookie to
 * send) are in RequestSession.
 */
import { randomBytes } from 'node:crypto';
import { serialize, type SerializeOptions } from 'cookie';
import { HttpError, SessionStoreError } from '../errors.ts';
import type { SessionEngine } from './engine.ts';
import { Session } from './session.ts';
import { extractMeta, type SessionDevice } from './session-meta.ts';
import type { SessionPolicy } from './settings.ts';
import { storeKeyFor, type StoreKey } from './store-key.ts';
import { listUserSessions, type UserSession } from './user-sessions.ts';

/** base64url of 24 random bytes: exactly 32 characters, 192 bits from the OS CSPRNG. */
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export class SessionFactory {
  readonly policy: SessionPolicy;
  readonly engine: SessionEngine;
  readonly #cookieBase: SerializeOptions;
  /**
   * id -> the key the engine stores it under (store-key.ts), applied before every engine call:
   * the engine never sees an id when `hash_ids` is on. An engine without server state (its
   * sessions in the cookie) has no store keys and replaces this with the identity.
   */
  storeKey: StoreKey;

  /** `engine` is built by createApp from the same settings; the factory owns it from now on. */
  constructor(policy: SessionPolicy, engine: SessionEngine) {
    this.policy = policy;
    this.engine = engine;
    this.storeKey = storeKeyFor(policy.hash_ids);
    const p = policy;
    this.#cookieBase = {
      path: p.cookie_path,
      httpOnly: p.is_http_only,
      secure: p.is_secure,
      sameSite: p.cookie_same_site.toLowerCase() as 'strict' | 'lax' | 'none',
      ...(p.cookie_domain === undefined ? {} : { domain: p.cookie_domain }),
    };
  }

  generateId(): string {
    return randomBytes(24).toString('base64url');
  }

  /** Whether `id` has the shape of an id this factory makes. Nothing else reaches the engine. */
  validateId(id: string): boolean {
    return ID_PATTERN.test(id);
  }

  /** A new, empty session; stored only once something is written to it. */
  create(): Session {
    return new Session(this.generateId(), {}, true, this.policy.max_session_size);
  }

  /**
   * The stored session with this id, or undefined for a malformed, unknown or expired id. Past
   * `absolute_duration` since its creation a session reads as unknown, however recently used.
   */
  retrieve(id: string): Promise<Session | undefined> {
    if (!this.validateId(id)) return NOTHING;
    return guard('read', () => this.engine.retrieve(this.storeKey(id))).then(record => {
      if (!record) return undefined;
      const meta = extractMeta(record.data);
      const absolute = this.policy.absolute_duration;
      if (meta && absolute !== undefined && meta.created + absolute * 1000 <= Date.now()) return undefined;
      return new Session(id, record.data, false, this.policy.max_session_size, record.size, meta);
    });
  }

  /**
   * Stores what this request changed. Only call it for a dirty session. The store's expiry is the
   * session's idle timeout (its own lifetime, or session_duration), cut to what is left of
   * absolute_duration. An owned session's write also records `device`, the client that made it
   * (what userSessions shows), in the same flush.
   */
  flush(session: Session, device?: SessionDevice): Promise<void> {
    session.saveMetaIfUnsaved();
    if (device && session.owner !== undefined) session.recordDevice(device);
    return guard('save', () => this.engine.flush(this.storeKey(session.id), session.change, this.ttlSeconds(session), this.policy.max_session_size));
  }

  /** Seconds the store keeps `session` from now without use. */
  ttlSeconds(session: Session): number {
    const idle = session.lifetime ?? this.policy.session_duration;
    const absolute = this.policy.absolute_duration;
    if (absolute === undefined) return idle;
    const left = Math.ceil((session.createdAt + absolute * 1000 - Date.now()) / 1000);
    return Math.max(1, Math.min(idle, left));
  }

  /** Whether the session's cookie carries an Expires (so a touch must refresh it). */
  persistentCookie(session: Session): boolean {
    return session.lifetime !== undefined || this.policy.cookie_duration !== undefined;
  }

  /** engine.take (the engine has it: see RequestSession.take). */
  take(id: string, key: string): Promise<string | undefined> {
    return guard('read', () => this.engine.take!(this.storeKey(id), key));
  }

  /** Deletes the session; `owner` (the session's, if any) also takes it out of the owner's index. */
  destroy(id: string, owner?: string): Promise<void> {
    const key = this.storeKey(id);
    return guard('delete', () => (owner === undefined ? this.engine.destroy(key) : this.engine.destroy(key, owner)));
  }

  /**
   * The engine's owner index, or a TypeError naming `keyword` when the engine has none: a login
   * that could not be listed or logged out everywhere must fail loudly, not be a silent no-op.
   */
  requireOwners(keyword: string): Required<Pick<SessionEngine, 'ownedSessions' | 'destroyOwned'>> {
    const { ownedSessions, destroyOwned } = this.engine;
    if (typeof ownedSessions !== 'function' || typeof destroyOwned !== 'function') {
      throw new TypeError(`${keyword}(): the session engine (${this.engine.constructor.name}) keeps no owner index (the "owners" capability: ownedSessions and destroyOwned); Memory and Redis do`);
    }
    return { ownedSessions: ownedSessions.bind(this.engine), destroyOwned: destroyOwned.bind(this.engine) };
  }

  /** The live sessions of `owner`, newest activity first; `currentId`'s is marked `current`. */
  userSessions(owner: string, currentId: string | undefined): Promise<UserSession[]> {
    const { ownedSessions } = this.requireOwners('userSessions');
    const current = currentId === undefined ? undefined : this.storeKey(currentId);
    return guard('list', () => ownedSessions(owner)).then(owned => listUserSessions(owned, current, this.policy.absolute_duration));
  }

  /** Ends every live session of `owner` but `exceptId`'s; how many it ended. */
  destroyUserSessions(owner: string, exceptId: string | undefined): Promise<number> {
    const { destroyOwned } = this.requireOwners('destroyUserSessions');
    const except = exceptId === undefined ? undefined : this.storeKey(exceptId);
    return guard('delete', () => destroyOwned(owner, except));
  }

  /**
   * Gives a session a new id. Stored data moves with it (atomically where the engine can); an
   * engine without changeId gets the data rewritten under the new id and the old one deleted.
   * Returns the session to use from now on.
   */
  async changeId(session: Session): Promise<Session> {
    const newId = this.generateId();
    if (session.isNew) {
      session.rename(newId);
      return session;
    }
    const oldId = session.id;
    const owner = session.owner;
    if (this.engine.changeId) {
      const [oldKey, newKey] = [this.storeKey(oldId), this.storeKey(newId)];
      await guard('rename', () => (owner === undefined ? this.engine.changeId!(oldKey, newKey) : this.engine.changeId!(oldKey, newKey, owner)));
      session.rename(newId);
      return session;
    }
    const moved = new Session(newId, {}, true, this.policy.max_session_size, undefined, { created: session.createdAt, ...(session.lifetime === undefined ? {} : { remember: session.lifetime }) });
    for (const [key, value] of Object.entries(session.toJSON())) moved.set(key, value);
    await this.destroy(oldId, owner);
    // Out of the index with the old id, back in with the new one, at the new session's flush.
    if (owner !== undefined) moved.setOwner(owner);
    return moved;
  }

  /**
   * The Set-Cookie value that gives the client this session id: with an Expires of the session's
   * own lifetime (remember()), else of cookie_duration, else none (a browser-session cookie).
   */
  cookie(session: Session): string {
    const seconds = session.lifetime ?? this.policy.cookie_duration;
    return serialize(this.policy.cookie_name, session.id, {
      ...this.#cookieBase,
      ...(seconds === undefined ? {} : { expires: new Date(Date.now() + seconds * 1000) }),
    });
  }

  /** The Set-Cookie value that makes the client drop its session cookie. */
  expiredCookie(): string {
    return serialize(this.policy.cookie_name, '', { ...this.#cookieBase, expires: new Date(0), maxAge: 0 });
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }
}

const NOTHING: Promise<undefined> = Promise.resolve(undefined);

/**
 * Runs an engine call; anything it throws or rejects with becomes a SessionStoreError (503) with
 * the cause kept, except an HttpError the engine chose (SessionTooLargeError: 413). Not an async
 * function, and no named closure (tsx's keepNames wraps each one in a defineProperty call): this
 * is on every session request's path, and on Node 20 each extra Promise also pays
 * AsyncLocalStorage's hooks.
 */
function guard<T>(action: string, call: () => Promise<T>): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(undefined, error => rethrowAsStoreError(action, error));
}

function rethrowAsStoreError(action: string, error: unknown): never {
  if (error instanceof HttpError) throw error;
  throw new SessionStoreError(`The session store could not ${action} the session`, { cause: error });
}
