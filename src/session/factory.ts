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
    return this.#withExpiry(new Session(this.generateId(), {}, true, this.policy.max_session_size));
  }

  /** The stored session with this id, or undefined for a malformed, unknown or expired id. */
  retrieve(id: string): Promise<Session | undefined> {
    if (!this.validateId(id)) return NOTHING;
    return guard('read', () => this.engine.retrieve(id)).then(
      record => record && this.#withExpiry(new Session(id, record.data, false, this.policy.max_session_size, record.size)),
    );
  }

  /** Stores what this request changed. Only call it for a dirty session. */
  flush(session: Session): Promise<void> {
    return guard('save', () => this.engine.flush(session.id, session.change, this.policy.session_duration, this.policy.max_session_size));
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
    const moved = this.#withExpiry(new Session(newId, {}, true, this.policy.max_session_size));
    for (const [key, value] of Object.entries(session.toJSON())) moved.set(key, value);
    await this.destroy(oldId);
    return moved;
  }

  /** The Set-Cookie value that gives the client this session id. */
  cookie(session: Session): string {
    return serialize(this.policy.cookie_name, session.id, {
      ...this.#cookieBase,
      ...(session.expires === undefined ? {} : { expires: new Date(session.expires) }),
    });
  }

  /** The Set-Cookie value that makes the client drop its session cookie. */
  expiredCookie(): string {
    return serialize(this.policy.cookie_name, '', { ...this.#cookieBase, expires: new Date(0), maxAge: 0 });
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }

  #withExpiry(session: Session): Session {
    const duration = this.policy.cookie_duration;
    if (duration !== undefined) session.expires = Date.now() + duration * 1000;
    return session;
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
