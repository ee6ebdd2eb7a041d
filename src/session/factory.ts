/**
 * SessionFactory: the session policy of one app. It makes ids, checks them before any engine
 * sees them, loads, creates, flushes, destroys and renames sessions through the engine, and
 * renders the session cookie. The per-request rules (laziness, when to flush, which cookie to
 * send) are in RequestSession.
 *
 * With a sealing engine (Cookie: openCookie + sealCookie) the cookie value is the session itself:
 * `retrieve` opens it, `flush` has nothing to store, `changeId` is a new id in the next seal, and
 * `cookie` seals the session, refusing one that would pass what a browser keeps (4,096 bytes).
 */
import { serialize, type SerializeOptions } from 'cookie';
import { HttpError, SessionCookieTooLargeError, SessionStoreError } from '../base/errors.ts';
import type { SessionChange, SessionEngine, UnreadFlushed } from './engine.ts';
import { randomToken } from './random-token.ts';
import { Session } from './session.ts';
import { extractMeta, ttlFor, type SessionDevice, type SessionMeta } from './session-meta.ts';
import type { SessionPolicy } from './settings.ts';
import { storeKeyFor, type StoreKey } from './store-key.ts';
import { listUserSessions, type UserSession } from './user-sessions.ts';

/** base64url of 24 random bytes: exactly 32 characters, 192 bits from the OS CSPRNG. */
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** What a browser keeps of one cookie: name, value and attributes together (RFC 6265 §6.1). */
export const MAX_COOKIE_BYTES = 4096;

export class SessionFactory {
  readonly policy: SessionPolicy;
  readonly engine: SessionEngine;
  readonly #cookieBase: SerializeOptions;
  /**
   * What follows `name=value` in a session cookie without Expires (`; Path=/; HttpOnly; ...`),
   * serialized once: the id cookie is then one concatenation, not a serialize() that checks
   * every attribute again (2.5% of the login flood's CPU). Ids are base64url, always valid.
   */
  readonly #idCookieTail: string;
  /**
   * id -> the key the engine stores it under (store-key.ts), applied before every engine call:
   * the engine never sees an id when `hash_ids` is on. An engine without server state (its
   * sessions in the cookie) has no store keys and replaces this with the identity.
   */
  storeKey: StoreKey;
  /** The browser's CSRF cookie (csrf-token.ts): the session cookie's name with `.csrf` after it. */
  readonly csrfCookieName: string;
  /** The engine seals sessions in the cookie (openCookie + sealCookie). */
  readonly #sealing: boolean;
  /** Sealed sessions opened with less than half their idle time left: resealed even if unchanged. */
  readonly #resealDue = new WeakSet<Session>();

  /** `engine` is built by createApp from the same settings; the factory owns it from now on. */
  constructor(policy: SessionPolicy, engine: SessionEngine) {
    this.policy = policy;
    this.engine = engine;
    this.storeKey = storeKeyFor(policy.hash_ids);
    this.csrfCookieName = `${policy.cookie_name}.csrf`;
    this.#sealing = typeof engine.openCookie === 'function' && typeof engine.sealCookie === 'function';
    const p = policy;
    this.#cookieBase = {
      path: p.cookie_path,
      httpOnly: p.is_http_only,
      secure: p.is_secure,
      sameSite: p.cookie_same_site.toLowerCase() as 'strict' | 'lax' | 'none',
      ...(p.cookie_domain === undefined ? {} : { domain: p.cookie_domain }),
    };
    this.#idCookieTail = serialize(p.cookie_name, 'x', this.#cookieBase).slice(p.cookie_name.length + 2);
  }

  generateId(): string {
    return randomToken(24);
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
   * `id` is the session cookie's value: with a sealing engine, the sealed session itself.
   */
  retrieve(id: string): Promise<Session | undefined> {
    if (this.#sealing) return guard('read', () => Promise.resolve(this.#open(id)));
    if (!this.validateId(id)) return NOTHING;
    return guard('read', () => this.engine.retrieve(this.storeKey(id))).then(record => {
      if (!record) return undefined;
      const meta = extractMeta(record.data);
      if (this.#pastAbsolute(meta)) return undefined;
      return new Session(id, record.data, false, this.policy.max_session_size, record.size, meta);
    });
  }

  /** The session sealed in cookie `value`: its id checked, its absolute expiry too (the idle one is the engine's). */
  #open(value: string): Session | undefined {
    const sealed = this.engine.openCookie!(value);
    if (!sealed || !this.validateId(sealed.id)) return undefined;
    const meta = extractMeta(sealed.data);
    if (this.#pastAbsolute(meta)) return undefined;
    const session = new Session(sealed.id, sealed.data, false, this.policy.max_session_size, sealed.size, meta);
    // A read-only request reseals only past half the idle window: reads stay cheap, and a session
    // in use still slides forward before it expires.
    if (sealed.expiresAt - Date.now() < ((session.lifetime ?? this.policy.session_duration) * 1000) / 2) this.#resealDue.add(session);
    return session;
  }

  #pastAbsolute(meta: SessionMeta | undefined): boolean {
    const absolute = this.policy.absolute_duration;
    return meta !== undefined && absolute !== undefined && meta.created + absolute * 1000 <= Date.now();
  }

  /**
   * Whether the cookie must carry this session again though nothing else asks for it: with a
   * sealing engine, a changed session (the cookie is its only copy) or one due for a reseal.
   */
  mustReseal(session: Session): boolean {
    return this.#sealing && (session.isDirty || this.#resealDue.has(session));
  }

  /**
   * Stores what this request changed. Only call it for a dirty session. The store's expiry is the
   * session's idle timeout (its own lifetime, or session_duration), cut to what is left of
   * absolute_duration. An owned session's write also records `device`, the client that made it
   * (what userSessions shows), in the same flush.
   */
  flush(session: Session, device?: SessionDevice): Promise<void> {
    if (this.#sealing) return NOTHING; // the Set-Cookie from cookie() is the write
    session.saveMetaIfUnsaved();
    if (device && session.owner !== undefined) session.recordDevice(device);
    return guard('save', () => this.engine.flush(this.storeKey(session.id), session.change, this.ttlSeconds(session), this.policy.max_session_size));
  }

  /** Seconds the store keeps `session` from now without use. */
  ttlSeconds(session: Session): number {
    const meta = { created: session.createdAt, ...(session.lifetime === undefined ? {} : { remember: session.lifetime }) };
    return Math.max(1, ttlFor(meta, this.policy.session_duration, this.policy.absolute_duration, Date.now()));
  }

  /** The engine can store a write without a read first (engine.flushUnread). */
  get writesUnread(): boolean {
    return this.engine.flushUnread !== undefined;
  }

  /**
   * Stores keys a request wrote without reading the session, if the session `id` exists and is
   * not past absolute_duration (the engine applies the expiry rules from the stored meta): one
   * round trip instead of a read and a flush. Undefined when it does not exist: nothing stored.
   * `writtenAt`: when the request first wrote (see UnreadExpiry).
   */
  flushUnread(id: string, change: SessionChange, writtenAt: number): Promise<UnreadFlushed | undefined> {
    const { session_duration: idle, absolute_duration: absolute, max_session_size: maxSize } = this.policy;
    return guard('save', () => this.engine.flushUnread!(this.storeKey(id), change, { idle, absolute, maxSize, writtenAt }));
  }

  /** Whether the session's cookie carries an Expires (so a touch must refresh it). */
  persistentCookie(session: Session): boolean {
    return this.persistentFor(session.lifetime);
  }

  /** Whether a session with own lifetime `lifetime` has a cookie with an Expires. */
  persistentFor(lifetime: number | undefined): boolean {
    return lifetime !== undefined || this.policy.cookie_duration !== undefined;
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
    if (session.isNew || this.#sealing) {
      // A sealing engine: the next seal carries the new id (a copy of the old cookie still opens
      // until it expires: nothing on the server can revoke it).
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
   * With a sealing engine the value is the session sealed; one past MAX_COOKIE_BYTES throws
   * SessionCookieTooLargeError (413), so the browser keeps the cookie it has.
   */
  cookie(session: Session): string {
    if (!this.#sealing) return this.cookieFor(session.id, session.lifetime);
    const value = this.engine.sealCookie!(session.id, session.storedJson(), this.ttlSeconds(session));
    const header = serialize(this.policy.cookie_name, value, this.#attributes(session.lifetime));
    if (header.length > MAX_COOKIE_BYTES) throw new SessionCookieTooLargeError(header.length, MAX_COOKIE_BYTES);
    return header;
  }

  /**
   * The Set-Cookie value for session `id` with its own lifetime `lifetime`, for a session this
   * request stored without reading it (flushUnread; engines that seal never get there).
   */
  cookieFor(id: string, lifetime: number | undefined): string {
    if ((lifetime ?? this.policy.cookie_duration) === undefined) return `${this.policy.cookie_name}=${id}${this.#idCookieTail}`;
    return serialize(this.policy.cookie_name, id, this.#attributes(lifetime));
  }

  /** The cookie's attributes, with an Expires of `lifetime`, else of cookie_duration, else none. */
  #attributes(lifetime: number | undefined): SerializeOptions {
    const seconds = lifetime ?? this.policy.cookie_duration;
    return { ...this.#cookieBase, ...(seconds === undefined ? {} : { expires: new Date(Date.now() + seconds * 1000) }) };
  }

  /**
   * The Set-Cookie value of the browser's CSRF token (csrf-token.ts), for a visitor without a
   * session: the session cookie's attributes (SameSite, Secure, Path, Domain, and the Expires of
   * cookie_duration if set), so it lives as long and travels as narrowly.
   */
  csrfCookie(token: string): string {
    // Always HttpOnly, even where the session cookie is not: pages carry the token in the form.
    return serialize(this.csrfCookieName, token, { ...this.#attributes(undefined), httpOnly: true });
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
