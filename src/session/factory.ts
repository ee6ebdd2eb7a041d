/**
 * SessionFactory: the session policy of one app. It makes ids, checks them before any engine
 * sees them, loads, creates, flushes, destroys and renames sessions through the engine, and
 * renders the session cookie. The per-request rules (laziness, when to flush, which cookie to
 * send) are in RequestSession.
 */
import { randomBytes } from 'node:crypto';
import { serialize, type SerializeOptions } from 'cookie';
import { HttpError, SessionStoreError } from '../errors.ts';
import type { SessionChange, SessionEngine, UnreadFlushed } from './engine.ts';
import { Session } from './session.ts';
import { extractMeta, ttlFor } from './session-meta.ts';
import type { SessionPolicy } from './settings.ts';

/** base64url of 24 random bytes: exactly 32 characters, 192 bits from the OS CSPRNG. */
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export class SessionFactory {
  readonly policy: SessionPolicy;
  readonly engine: SessionEngine;
  readonly #cookieBase: SerializeOptions;

  /** `engine` is built by createApp from the same settings; the factory owns it from now on. */
  constructor(policy: SessionPolicy, engine: SessionEngine) {
    this.policy = policy;
    this.engine = engine;
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
    return guard('read', () => this.engine.retrieve(id)).then(record => {
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
   * absolute_duration.
   */
  flush(session: Session): Promise<void> {
    session.saveMetaIfUnsaved();
    return guard('save', () => this.engine.flush(session.id, session.change, this.ttlSeconds(session), this.policy.max_session_size));
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
    return guard('save', () => this.engine.flushUnread!(id, change, { idle, absolute, maxSize, writtenAt }));
  }

  /** Whether the session's cookie carries an Expires (so a touch must refresh it). */
  persistentCookie(session: Session): boolean {
    return session.lifetime !== undefined || this.policy.cookie_duration !== undefined;
  }

  /** engine.take (the engine has it: see RequestSession.take). */
  take(id: string, key: string): Promise<string | undefined> {
    return guard('read', () => this.engine.take!(id, key));
  }

  destroy(id: string): Promise<void> {
    return guard('delete', () => this.engine.destroy(id));
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
    if (this.engine.changeId) {
      await guard('rename', () => this.engine.changeId!(oldId, newId));
      session.rename(newId);
      return session;
    }
    const moved = new Session(newId, {}, true, this.policy.max_session_size, undefined, { created: session.createdAt, ...(session.lifetime === undefined ? {} : { remember: session.lifetime }) });
    for (const [key, value] of Object.entries(session.toJSON())) moved.set(key, value);
    await this.destroy(oldId);
    return moved;
  }

  /**
   * The Set-Cookie value that gives the client this session id: with an Expires of the session's
   * own lifetime (remember()), else of cookie_duration, else none (a browser-session cookie).
   */
  cookie(session: Session): string {
    return this.cookieFor(session.id, session.lifetime);
  }

  /** The Set-Cookie value for session `id` whose own lifetime is `lifetime` (see cookie). */
  cookieFor(id: string, lifetime: number | undefined): string {
    const seconds = lifetime ?? this.policy.cookie_duration;
    return serialize(this.policy.cookie_name, id, {
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
