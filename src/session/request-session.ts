/**
 * The session as one request sees it: built lazily from the request's session cookie, and
 * committed once at the end of the request (DESIGN §3.3, §3.4).
 *
 * - Nothing is read from the store until the request asks for the session.
 * - Reading a key with no (valid, known) session cookie returns undefined and creates nothing.
 * - A client-supplied id the store does not know is never adopted: a write gets a fresh id.
 * - `commit` flushes only a dirty session and returns at most one Set-Cookie value: for a new
 *   stored session, a changed id, a destroyed session (expired cookie), a touched session when
 *   cookie_duration is set (refreshed Expires), or a stale cookie the route tried to use (so
 *   the browser stops sending it). A route that never touches the session gets no cookie.
 */
import type { SessionFactory } from './factory.ts';
import type { Session } from './session.ts';

export class RequestSession {
  readonly #factory: SessionFactory;
  /** The id from the request's cookie, until it is used or found stale. */
  #cookieId: string | undefined;
  #session: Session | undefined;
  #loading: Promise<Session | undefined> | undefined;
  #destroyed = false;
  #idChanged = false;
  #staleCookie = false;

  constructor(factory: SessionFactory, cookieId: string | undefined) {
    this.#factory = factory;
    this.#cookieId = cookieId;
  }

  /** The session, created (in memory only) when there is none. */
  get(): Promise<Session> {
    return this.find().then(found => found ?? (this.#session ??= this.#factory.create()));
  }

  /** The session if the request has one (loaded or stored), without creating one. */
  find(): Promise<Session | undefined> {
    if (this.#session) return Promise.resolve(this.#session);
    if (this.#cookieId === undefined) return Promise.resolve(undefined);
    return (this.#loading ??= this.#load(this.#cookieId));
  }

  /** Deletes the stored session now; later writes in this request start a brand-new session. */
  async destroy(): Promise<void> {
    const session = await this.find();
    if (session && !session.isNew) await this.#factory.destroy(session.id);
    this.#session = undefined;
    this.#cookieId = undefined;
    this.#loading = undefined;
    this.#destroyed = true;
  }

  /** Moves the session to a new id (defeats session fixation); returns the new id. */
  async changeId(): Promise<string> {
    const session = await this.get();
    this.#session = await this.#factory.changeId(session);
    this.#idChanged = true;
    return this.#session.id;
  }

  /**
   * Flushes if dirty and gives the session Set-Cookie value to send, if any: at once when there
   * is nothing to flush, else through a Promise that rejects with SessionStoreError when the
   * flush fails (the caller answers 503 instead of a response that silently lost data).
   */
  commit(): Promise<string | undefined> | string | undefined {
    const session = this.#session;
    if (session?.isDirty) return this.#factory.flush(session).then(() => this.#cookie(session));
    return this.#cookie(session);
  }

  /** The Set-Cookie value for the end of this request (see the rules at the top). */
  #cookie(session: Session | undefined): string | undefined {
    const factory = this.#factory;
    if (session) {
      const stored = !session.isNew || session.isDirty;
      if (stored && (session.isNew || this.#idChanged || factory.policy.cookie_duration !== undefined)) {
        return factory.cookie(session);
      }
    }
    if (this.#destroyed || this.#staleCookie) return factory.expiredCookie();
    return undefined;
  }

  #load(id: string): Promise<Session | undefined> {
    return this.#factory.retrieve(id).then(session => {
      if (session) this.#session ??= session;
      else {
        this.#cookieId = undefined;
        this.#staleCookie = true;
      }
      return this.#session;
    });
  }
}
