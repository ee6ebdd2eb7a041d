/**
 * SessionFactory: the session policy of one app. It makes ids, checks them before any engine
 * sees them, loads, creates, flushes, destroys and renames sessions through its backend, and
 * renders the session cookie. The per-request rules (laziness, when to flush, which cookie to
 * send) are in RequestSession.
 *
 * The backend (backend/backend.ts) is the engine behind one interface, whatever its kind: a store
 * (backend/stored.ts) or a sealer whose cookie value is the session itself (backend/sealed.ts).
 * The factory never asks which kind it holds, and finds the store's optional capabilities
 * (take, flushUnread, the owner index) resolved once, as objects it has or not.
 */
import { ConfigError, SessionCookieTooLargeError, TooManySessionsError } from '../base/errors.ts';
import { AbuseLimits } from './abuse/abuse-limits.ts';
import type { BackendOwners, BackendRenewal, BackendTake, BackendUnreadFlush, SessionBackend } from './backend/backend.ts';
import type { SessionEngine } from './engine.ts';
import { Session } from './session.ts';
import { isSessionId, newSessionId } from './session-id.ts';
import type { SessionDevice } from './session-meta.ts';
import { SessionCookie } from './session-cookie.ts';
import { cookiePrefixOf, type SessionPolicy } from './settings.ts';
import { sessionHandle, storeKeyFor, type StoreKey } from './store-key.ts';
import type { UserSession } from './user-sessions.ts';

/** What a browser keeps of one cookie: name, value and attributes together (RFC 6265 §6.1). */
export const MAX_COOKIE_BYTES = 4096;

export class SessionFactory {
  readonly policy: SessionPolicy;
  readonly #backend: SessionBackend;
  /**
   * Atomic take (engine.take), when the engine has it: RequestSession.take uses it for a stored
   * session, and the change log otherwise.
   */
  readonly take: BackendTake | undefined;
  /**
   * The engine stores a write without a read first (engine.flushUnread), when it can: a request
   * that only writes then never reads its session (RequestSession.write).
   */
  readonly unreadFlush: BackendUnreadFlush | undefined;
  /** All of one request's store operations settle within this many ms (StoredEngine.requestDeadlineMs). */
  readonly requestDeadlineMs: number | undefined;
  readonly #owners: BackendOwners | undefined;
  /** What this app notices and refuses of a client abusing sessions (abuse/abuse-limits.ts); undefined when off. */
  readonly abuse: AbuseLimits | undefined;
  /** Renewal, when renewal_duration is set (then the backend has it: checked in the constructor). */
  readonly #renewal: BackendRenewal | undefined;
  /** renewal_duration in ms. */
  readonly #renewalMs: number;
  readonly #storeKey: StoreKey;
  /** A flush applies the change log in the store (SessionBackend.merges). */
  readonly merges: boolean;
  /** The cookie over HTTPS and over plain http (session-cookie.ts): one object when is_secure is not `auto`. */
  readonly #secureCookie: SessionCookie;
  readonly #plainCookie: SessionCookie;

  /** The engine as its definition created it (a store with its capabilities, or a sealer). */
  get engine(): SessionEngine {
    return this.#backend.engine;
  }

  /**
   * `backend` is built by createApp from the same settings; the factory owns it from now on.
   * `warn` logs the abuse limits' lines (a client guessing ids).
   */
  constructor(policy: SessionPolicy, backend: SessionBackend, warn: (message: string) => void = () => {}) {
    this.policy = policy;
    this.abuse = AbuseLimits.wanted(policy) ? new AbuseLimits(policy, warn) : undefined;
    this.#backend = backend;
    this.take = backend.take;
    this.unreadFlush = backend.unreadFlush;
    this.requestDeadlineMs = backend.requestDeadlineMs;
    this.#owners = backend.owners;
    if (policy.renewal_duration !== undefined) {
      if (backend.renewal === undefined && backend.renewsItself !== true) {
        throw new ConfigError('config.yml', `engines.session.${backend.name.replace(/Engine$/, '')}.renewal_duration`, `no renewal_duration: the session engine (${backend.name}) cannot renew ids (the "renewal" capability; Memory and Redis can)`, policy.renewal_duration);
      }
      this.#renewal = backend.renewal;
    }
    this.#renewalMs = (policy.renewal_duration ?? Infinity) * 1000;
    this.#storeKey = storeKeyFor(policy.hash_ids);
    this.merges = backend.merges;
    // A prefixed cookie_name is always Secure: browsers drop it otherwise (settings.ts checks is_secure).
    const always = policy.is_secure === true || cookiePrefixOf(policy.cookie_name) !== undefined;
    this.#secureCookie = new SessionCookie(policy, policy.is_secure !== false);
    this.#plainCookie = always || policy.is_secure === false ? this.#secureCookie : new SessionCookie(policy, false);
  }

  /**
   * The session cookie for a request that came over HTTPS (`secure`: RequestData.isSecure) or
   * not: with `is_secure: auto`, Secure and `__Host-` (or `__Secure-`) over HTTPS only.
   */
  cookieOver(secure: boolean): SessionCookie {
    return secure ? this.#secureCookie : this.#plainCookie;
  }

  generateId(): string {
    return newSessionId();
  }

  /** Whether `id` has the shape of an id this factory makes. Nothing else reaches the engine. */
  validateId(id: string): boolean {
    return isSessionId(id);
  }

  /**
   * The name of session `id` that cannot be replayed as a cookie: the `handle` userSessions shows
   * (store-key.ts), for traces (base/tracing.ts), which never hold an id.
   */
  handleOf(id: string): string {
    return sessionHandle(this.#storeKey(id));
  }

  /**
   * A new, empty session; stored only once something is written to it. `https`: made by a
   * request over HTTPS, recorded so that it is never read under a previous cookie name.
   */
  create(https = false): Session {
    const meta = https ? { created: Date.now(), https: true as const } : undefined;
    return new Session(this.generateId(), {}, true, this.policy.max_session_size, undefined, meta);
  }

  /**
   * The stored session the cookie value names, or undefined for a malformed, unknown or expired
   * one. Past `absolute_duration` since its creation a session reads as unknown, however
   * recently used. With a sealer, the value is the sealed session itself.
   */
  retrieve(cookieValue: string): Promise<Session | undefined> {
    return this.#backend.retrieve(cookieValue);
  }

  /**
   * Whether the cookie must carry this session again though nothing else asks for it: with a
   * sealer, a changed session (the cookie is its only copy) or one due for a reseal.
   */
  mustReseal(session: Session): boolean {
    return this.#backend.mustReseal(session);
  }

  /**
   * Stores what this request changed. Only call it for a dirty session. The store's expiry is the
   * session's idle timeout (its own lifetime, or session_duration), cut to what is left of
   * absolute_duration. An owned session's write also records `device`, the client that made it
   * (what userSessions shows), in the same flush. With a sealer the Set-Cookie is the write.
   */
  flush(session: Session, device?: SessionDevice): Promise<void> {
    return this.#backend.flush(session, device);
  }

  /** Whether the session's cookie carries an Expires (so a touch must refresh it). */
  persistentCookie(session: Session): boolean {
    return this.persistentFor(session.lifetime);
  }

  /** Whether a session with own lifetime `lifetime` has a cookie with an Expires. */
  persistentFor(lifetime: number | undefined): boolean {
    return lifetime !== undefined || this.policy.cookie_duration !== undefined;
  }

  /** Deletes the session; `owner` (the session's, if any) also takes it out of the owner's index. */
  destroy(id: string, owner?: string, session?: Session): Promise<void> {
    return this.#backend.destroy(id, owner, session);
  }

  /**
   * The engine's owner index, or a TypeError naming `keyword` when the engine has none: a login
   * that could not be listed or logged out everywhere must fail loudly, not be a silent no-op.
   */
  requireOwners(keyword: string): BackendOwners {
    const owners = this.#owners;
    if (owners === undefined) {
      throw new TypeError(`${keyword}(): the session engine (${this.#backend.name}) keeps no owner index (the "owners" capability: ownedSessions and destroyOwned); Memory and Redis do, and Cookie with a revocation store (engines.session.Cookie.revocation)`);
    }
    return owners;
  }

  /** The live sessions of `owner`, newest activity first; `currentId`'s is marked `current`. */
  userSessions(owner: string, currentId: string | undefined): Promise<UserSession[]> {
    return this.requireOwners('userSessions').list(owner, currentId);
  }

  /**
   * Whether `session`, just read, is due for a new id (renewal_duration since its id was last
   * renewed or its user logged in). False without renewal_duration: one comparison.
   */
  renewalDue(session: Session): boolean {
    return this.#renewal !== undefined && !session.isNew && Date.now() - session.renewedAt >= this.#renewalMs;
  }

  /**
   * Gives a session due for renewal a new id, its old one forwarded for renewal_grace seconds;
   * undefined when another request renewed it first (docs/design.md#renewal-with-a-grace-window).
   */
  renew(session: Session): Promise<Session | undefined> {
    return this.#renewal!.renew(session, this.generateId());
  }

  /**
   * With max_sessions_per_user and the `refuse` policy, before a login: throws
   * TooManySessionsError (409) when `owner` already has that many live sessions besides
   * `currentId` (the session logging in, never counted), so nothing changes
   * (docs/design.md#a-cap-per-user).
   */
  async refuseIfFull(owner: string, currentId: string | undefined): Promise<void> {
    const cap = this.policy.max_sessions_per_user;
    if (cap === undefined || this.policy.max_sessions_policy !== 'refuse') return;
    const others = (await this.requireOwners('login').list(owner, currentId)).filter(s => !s.current);
    if (others.length >= cap) throw new TooManySessionsError(cap);
  }

  /**
   * With max_sessions_per_user and the `end_least_recent` policy, after a login's flush: ends
   * `owner`'s least recently used sessions past the cap, `currentId` (the one that logged in)
   * always kept. After the flush, so that logins at the same instant each see the others and
   * the cap holds (at worst one more is ended); how many it ended.
   */
  async trimToCap(owner: string, currentId: string): Promise<number> {
    const cap = this.policy.max_sessions_per_user;
    if (cap === undefined || this.policy.max_sessions_policy !== 'end_least_recent') return 0;
    const owners = this.requireOwners('login');
    const others = (await owners.list(owner, currentId)).filter(s => !s.current);
    if (others.length < cap) return 0;
    // Newest activity first: the tail is the least recently used.
    return owners.end(owner, others.slice(cap - 1).map(s => s.handle));
  }

  /** Ends the sessions of `owner` shown with `handles` in userSessions; how many it ended. */
  endUserSessions(owner: string, handles: readonly string[]): Promise<number> {
    return this.requireOwners('destroyUserSessions').end(owner, handles);
  }

  /** Ends every live session of `owner` but `exceptId`'s; how many it ended. */
  destroyUserSessions(owner: string, exceptId: string | undefined): Promise<number> {
    return this.requireOwners('destroyUserSessions').destroy(owner, exceptId);
  }

  /**
   * Gives a session a new id. Stored data moves with it (atomically where the engine can); an
   * engine without changeId gets the data rewritten under the new id and the old one deleted.
   * Returns the session to use from now on.
   */
  changeId(session: Session): Promise<Session> {
    return this.#backend.changeId(session, this.generateId());
  }

  /** A move changeId left for the flush, done now (SessionBackend.settleMove). */
  settleMove(session: Session): Promise<void> {
    return this.#backend.settleMove(session);
  }

  /**
   * The Set-Cookie value that gives the client this session: with an Expires of the session's
   * own lifetime (remember()), else of cookie_duration, else none (a browser-session cookie). Its
   * value is the id, or with a sealer the session sealed; a header past MAX_COOKIE_BYTES (only a
   * sealed session gets near it) throws SessionCookieTooLargeError (413), so the browser keeps
   * the cookie it has.
   */
  cookie(session: Session, sent: SessionCookie): string {
    const header = this.cookieFor(this.#backend.cookieValue(session), session.lifetime, sent);
    if (header.length > MAX_COOKIE_BYTES) throw new SessionCookieTooLargeError(header.length, MAX_COOKIE_BYTES);
    return header;
  }

  /**
   * The Set-Cookie value carrying cookie value `value` (an id, or a seal) for a session with its
   * own lifetime `lifetime`: for a session this request stored without reading it (flushUnread),
   * and for cookie().
   */
  cookieFor(value: string, lifetime: number | undefined, sent: SessionCookie): string {
    return sent.header(value, lifetime ?? this.policy.cookie_duration);
  }

  /**
   * The Set-Cookie value of the browser's CSRF token (csrf-token.ts), for a visitor without a
   * session: the session cookie's attributes (SameSite, Secure, Path, Domain, and the Expires of
   * cookie_duration if set), so it lives as long and travels as narrowly.
   */
  csrfCookie(token: string, sent: SessionCookie): string {
    return sent.csrfHeader(token, this.policy.cookie_duration);
  }

  /** The Set-Cookie value that makes the client drop its session cookie (`name`: one of its previous names). */
  expiredCookie(sent: SessionCookie, name?: string): string {
    return sent.expired(name);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}
