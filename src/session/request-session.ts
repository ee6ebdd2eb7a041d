/**
 * The session as one request sees it: built lazily from the request's session cookie, and
 * committed once at the end of the request.
 *
 * - Nothing is read from the store until the request asks for the session.
 * - Reading a key with no (valid, known) session cookie returns undefined and creates nothing.
 * - A client-supplied id the store does not know is never adopted: a write gets a fresh id.
 * - `commit` flushes only a dirty session and returns at most one Set-Cookie value: for a new
 *   stored session, a changed id, a destroyed session (expired cookie), a touched session when
 *   cookie_duration is set (refreshed Expires), or a stale cookie the route tried to use (so
 *   the browser stops sending it). A route that never touches the session gets no cookie.
 *   With a sealing engine (Cookie) the cookie is the flush: a changed session is always sent,
 *   and so is one due for a reseal (SessionFactory.mustReseal).
 * - A request that only writes keys (`session(key, value)`, `flash(key, value)`) on an engine
 *   with the flushUnread capability never reads the session: the writes are checked at once and stored in one
 *   round trip at the commit. Anything that reads the session first loads it and replays them.
 */
import { handled } from '../base/handled.ts';
import { channels, tracePromise, type QuickstepChannel, type Traced } from '../base/tracing.ts';
import { newBinding, type DbscBinding } from './dbsc/binding.ts';
import { csrfTokenOf, renewCsrfToken, wellFormedCsrfToken } from './csrf-token.ts';
import { StoreTimeBudget } from './deadline.ts';
import type { SessionFactory } from './factory.ts';
import type { SessionChange } from './engine.ts';
import type { Session } from './session.ts';
import type { SessionCookie } from './session-cookie.ts';
import { SessionRead, type CallSite } from './session-read.ts';
import { checkedUnreadWrite, UnreadWrites } from './unread-writes.ts';
import { checkUserId, writtenBy, type ClientSource, type UserSession } from './user-sessions.ts';

/** The session hooks (Dancer2's engine.session.* hooks), each given the session id. */
export type SessionEvent = 'session.created' | 'session.loaded' | 'session.id_changed' | 'session.destroyed' | 'session.flushed' | 'session.id_guessing';

/**
 * Where a RequestSession reports its events; the Context binds them to the request. A hook that
 * fails is logged by the listener and never fails the session operation. `session.id_guessing`
 * is given the client's address instead of an id (abuse/abuse-limits.ts).
 */
export type SessionEvents = (event: SessionEvent, id: string, previousId?: string) => Promise<void> | undefined;

export class RequestSession {
  readonly #factory: SessionFactory;
  readonly #events: SessionEvents | undefined;
  readonly #client: ClientSource | undefined;
  /** The engine's requestDeadlineMs for this request's operations (deadline.ts); most engines have none. */
  readonly #budget: StoreTimeBudget | undefined;
  /** Session operations this request started and did not await yet (see track). */
  #pending: Promise<unknown>[] | undefined;
  /** The id from the request's cookie, until it is used or found stale. */
  #cookieId: string | undefined;
  #session: Session | undefined;
  #loading: Promise<Session | undefined> | undefined;
  #destroyed = false;
  #idChanged = false;
  #staleCookie = false;
  /** This request changed the id with `dbsc` on: its response offers registration (registrationOffer). */
  #offerBinding = false;
  /**
   * Writes made while nothing had read the session (see write). Replayed onto the session as
   * soon as one is loaded or created.
   */
  #unread: UnreadWrites | undefined;
  /** The reads the route started through the keywords (see read). */
  #reads: SessionRead<unknown>[] | undefined;
  /**
   * The browser's CSRF token (csrf-token.ts): from the request's CSRF cookie, or made by this
   * request's csrfToken() while it had no session. A session stored for the first time in this
   * request takes it as its own, so a form rendered before the session existed still passes.
   */
  #browserToken: string | undefined;
  /** The request came with a session or CSRF cookie: its response may depend on them (isPrivate). */
  readonly #hadCookie: boolean;
  /** The session cookie of this request's scheme (factory.cookieOver): its name, its flags. */
  readonly cookie: SessionCookie;
  /**
   * The id came under one of the cookie's previous names (an upgrade, a changed cookie_name): a
   * session found with it is sent under the current name at the commit, even if nothing changed.
   */
  readonly #fromPrevious: boolean;

  constructor(factory: SessionFactory, cookieId: string | undefined, events?: SessionEvents, client?: ClientSource, csrfCookie?: string, cookie?: SessionCookie, fromPrevious = false) {
    this.#factory = factory;
    this.#cookieId = cookieId;
    this.cookie = cookie ?? factory.cookieOver(false);
    this.#fromPrevious = fromPrevious;
    this.#browserToken = wellFormedCsrfToken(csrfCookie);
    this.#hadCookie = cookieId !== undefined || csrfCookie !== undefined;
    this.#events = events;
    this.#client = client;
    const deadline = factory.requestDeadlineMs;
    if (deadline !== undefined) this.#budget = new StoreTimeBudget(deadline);
  }

  /**
   * A store operation of this request, held to the request's budget where the engine sets one.
   * A new id whose move waits for the flush (Session.movedFrom) is moved first: the operation
   * finds the session where its id says.
   */
  #store<T>(start: () => Promise<T>): Promise<T> {
    const session = this.#session;
    if (session?.movedFrom !== undefined) return this.#held(() => this.#factory.settleMove(session)).then(() => this.#held(start));
    return this.#held(start);
  }

  /** `start` held to the request's budget, as is (the commit's flush, which does a waiting move itself). */
  #held<T>(start: () => Promise<T>): Promise<T> {
    return this.#budget === undefined ? start() : this.#budget.hold(start);
  }

  /**
   * A store operation (#store; the commit's flush: #held) traced on `on` (base/tracing.ts): only
   * called while it has subscribers, so that an untraced operation builds no payload and no closure more.
   */
  #traced<P extends Traced, T>(on: QuickstepChannel<P>, payload: P, start: () => Promise<T>, settled?: (value: T) => void, held = false): Promise<T> {
    return tracePromise(on, payload, () => (held ? this.#held(start) : this.#store(start)), settled);
  }

  /**
   * Records an operation the request started (a keyword's Promise), so that the commit waits for
   * it: `session('user', name); return redirect('/')` without await stores the write as an awaited
   * one would. If it fails, the commit fails with its error (a loud 5xx, never a silent loss).
   */
  track<T>(operation: Promise<T>): Promise<T> {
    (this.#pending ??= []).push(operation);
    // Handled here, so an operation nobody awaited does not become an unhandled rejection.
    return handled(operation);
  }

  /**
   * A read the route started through keyword `name` (session-read.ts): `map` of what `operation`
   * gives (or that value), returned as a SessionRead, and kept, so that the pipeline can fail a
   * request that never awaited it.
   */
  read<S, T = S>(operation: Promise<S>, map: ((value: S) => T) | undefined, site: CallSite | undefined, name: string, argument?: string): Promise<T> {
    const read = SessionRead.of(operation, map ?? (same as (value: S) => T), site, name, argument);
    (this.#reads ??= []).push(read);
    return read;
  }

  /** The first read of this request that nothing awaited, if any. */
  unawaitedRead(): SessionRead<unknown> | undefined {
    const reads = this.#reads;
    if (reads === undefined) return undefined;
    for (const read of reads) if (!read.subscribed) return read;
    return undefined;
  }

  /**
   * Whether this request's response was built from a session (request/private-response.ts): it
   * came with a session or CSRF cookie, or it found, made or ended a session, or handed out a
   * CSRF token. False only for a request without those cookies that looked and found nothing:
   * its response is the same for every visitor without a session.
   */
  get isPrivate(): boolean {
    return this.#hadCookie || this.#session !== undefined || this.#destroyed || this.#browserToken !== undefined;
  }

  /**
   * What the response asks the browser to clear (the `clear_site_data` setting) when this
   * request ended its session: destroySession / logout, or destroyUserSessions that ended it.
   */
  clearSiteData(): readonly string[] {
    return this.#destroyed ? this.#factory.policy.clear_site_data : NOTHING;
  }

  /**
   * The binding whose registration this request's response offers: the one a changed id made,
   * unless the session ended after it. Undefined otherwise (and always without `dbsc`).
   */
  registrationOffer(): DbscBinding | undefined {
    return this.#offerBinding && !this.#destroyed ? this.#session?.dbsc : undefined;
  }

  /** This request ended its session (destroy, logout, or destroyUserSessions that included it). */
  get endedHere(): boolean {
    return this.#destroyed;
  }

  /** The session, created (in memory only) when there is none. */
  get(): Promise<Session> {
    return this.find().then(found => found ?? this.#adopt(this.#create()));
  }

  /**
   * `session(key, value)`: sets `key` (undefined deletes it). Before anything read the session,
   * on an engine with flushUnread and no session hooks to run, the write is only recorded
   * (checked now, as Session.set checks) and the session is never read.
   */
  write(key: string, value: unknown): Promise<void> {
    const id = this.#cookieId;
    const unreadFlush = this.#factory.unreadFlush;
    // Not for an id under a previous cookie name: the session must be read to know it may be (#load).
    if (this.#session === undefined && this.#loading === undefined && id !== undefined && this.#events === undefined && unreadFlush !== undefined && !this.#fromPrevious && this.#factory.validateId(id)) {
      try {
        const written = checkedUnreadWrite(key, value, this.#factory.policy.max_session_size);
        // Made only once a write passed its check: a refused one leaves nothing to flush.
        (this.#unread ??= new UnreadWrites(unreadFlush)).set(key, written);
      } catch (error) {
        return Promise.reject(error);
      }
      return DONE;
    }
    return (value === undefined ? this.find() : this.get()).then(session => session?.set(key, value));
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
    if (session && !session.isNew) {
      const on = channels.sessionDestroy;
      // The operation written out in each branch: a named closure would cost a __name() per call under tsx.
      await (on.hasSubscribers
        ? this.#traced(on, { req: this.#client?.req, handle: this.#factory.handleOf(session.id) }, () => this.#factory.destroy(session.id, session.owner, session))
        : this.#store(() => this.#factory.destroy(session.id, session.owner, session)));
      await this.#events?.('session.destroyed', session.id);
    }
    this.#ended();
  }

  /** The session is gone for this request: its cookie is expired, a later write starts a new one. */
  #ended(): void {
    this.#unread = undefined;
    this.#session = undefined;
    this.#cookieId = undefined;
    this.#loading = undefined;
    this.#destroyed = true;
  }

  /** Moves the session to a new id (defeats session fixation); returns the new id. */
  async changeId(): Promise<string> {
    const session = await this.get();
    const oldId = session.id;
    // A browser that was shown a token before (its CSRF cookie) gets a new one for the session too.
    const hadToken = session.csrfToken !== undefined || this.#browserToken !== undefined;
    const on = channels.sessionChangeId;
    if (on.hasSubscribers) {
      const payload = { req: this.#client?.req, handle: this.#factory.handleOf(oldId), newHandle: undefined as string | undefined };
      this.#session = await this.#traced(on, payload, () => this.#factory.changeId(session), moved => (payload.newHandle = this.#factory.handleOf(moved.id)));
    } else {
      this.#session = await this.#store(() => this.#factory.changeId(session));
    }
    renewCsrfToken(this.#session, hadToken);
    // A new id is a new binding: the old key (if any) no longer renews this session's bound
    // cookie, and the response offers the browser to register one (docs/design.md#device-bound-sessions).
    if (this.#factory.policy.dbsc) {
      this.#session.setDbsc(newBinding());
      this.#offerBinding = true;
    }
    this.#idChanged = true;
    if (!session.isNew) await this.#events?.('session.id_changed', this.#session.id, oldId);
    return this.#session.id;
  }

  /**
   * The CSRF token for this request's forms (csrf-token.ts): the session's, made when it has
   * none; without a session, the browser's, which stores nothing: the one in the request's CSRF
   * cookie, else one from `issue` (which sends the cookie).
   */
  csrfToken(issue: () => string): Promise<string> {
    return this.find().then(session => (session === undefined ? (this.#browserToken ??= issue()) : csrfTokenOf(session)));
  }

  /**
   * The tokens a CSRF check of this request accepts (csrf-check.ts): the session's when it has
   * one, else the browser's. A request with no session cookie is decided without the store.
   */
  expectedCsrfToken(): Promise<string | undefined> {
    return this.find().then(session => session?.csrfToken ?? this.#browserToken);
  }

  /**
   * Records `userId` as the session's owner and gives it a new id (a login must: fixation). The
   * session joins the owner's index with its flush at the end of the request, in the same step
   * of the store where the engine can. A TypeError for a bad userId or an engine without an
   * owner index, before anything changes. Returns the new id.
   */
  async login(userId: unknown): Promise<string> {
    const owner = checkUserId('login', userId);
    const factory = this.#factory;
    factory.requireOwners('login');
    const policy = factory.policy;
    if (policy.max_sessions_per_user !== undefined) {
      if (policy.max_sessions_policy === 'refuse') {
        const current = await this.find();
        await this.#store(() => factory.refuseIfFull(owner, current === undefined || current.isNew ? undefined : current.id));
      } else {
        this.#trimOwner = owner;
      }
    }
    const id = await this.changeId();
    const session = this.#session!;
    session.setOwner(owner);
    // The time of this authentication, for `{ recentAuth }` routes: a login of the same user again is a re-authentication.
    session.markAuthenticated(Date.now());
    return id;
  }

  /** The live sessions of `userId` (see Context.userSessions); this request's is `current`. */
  async userSessions(userId: unknown): Promise<UserSession[]> {
    const owner = checkUserId('userSessions', userId);
    this.#factory.requireOwners('userSessions');
    const current = (await this.find())?.id;
    return this.#store(() => this.#factory.userSessions(owner, current));
  }

  /**
   * Ends `userId`'s sessions but `exceptId`'s; how many. If this request's session was one of
   * them, the request goes on without it, as after destroy() (its cookie is expired).
   */
  async destroyUserSessions(userId: unknown, exceptId: string | undefined, only?: string): Promise<number> {
    const owner = checkUserId('destroyUserSessions', userId);
    if (only !== undefined && typeof only !== 'string') throw new TypeError(`destroyUserSessions(userId, { only }): expected a handle from userSessions(), got ${typeof only}`);
    // Loaded first, so that if it is among the ended ones its cookie is expired in this response.
    const session = await this.find();
    const factory = this.#factory;
    if (only !== undefined) {
      // One device ("sign out this device"), by the handle userSessions showed.
      const ended = await this.#store(() => factory.endUserSessions(owner, [only]));
      if (ended > 0 && session && !session.isNew && session.owner === owner && factory.handleOf(session.id) === only) this.#ended();
      return ended;
    }
    const ended = await this.#store(() => factory.destroyUserSessions(owner, exceptId));
    if (session && !session.isNew && session.owner === owner && session.id !== exceptId) this.#ended();
    return ended;
  }

  /**
   * `destroyUserSessions(userId, { credentialsChanged: true })`, after `userId`'s password or
   * another factor changed (ASVS 7.4.3): every other session of the
   * user ends, and this request's, if it is the user's, stays logged in under a new id. Sessions
   * established before it read as unknown on every engine (the owner index; on Cookie the
   * revocation store's not-before). A TypeError without an owner index, before anything changes.
   * How many other sessions it ended.
   */
  async credentialsChanged(userId: unknown): Promise<number> {
    const owner = checkUserId('destroyUserSessions', userId);
    this.#factory.requireOwners('destroyUserSessions');
    const session = await this.find();
    const keep = session !== undefined && !session.isNew && session.owner === owner;
    // The new id first: the old one is then among those ended, and the kept one is the new one.
    const keptId = keep ? await this.changeId() : undefined;
    return this.#store(() => this.#factory.destroyUserSessions(owner, keptId));
  }

  /**
   * Returns the value at `key` and removes it, in one step of the store where the engine can
   * (the engine's `take` capability), so that of two requests reading it at once only one gets
   * it: a flash message.
   */
  async take(key: string): Promise<unknown> {
    const session = await this.find();
    if (!session || !session.has(key)) return undefined;
    const atomic = this.#factory.take;
    if (session.isNew || atomic === undefined) {
      const value = session.get(key);
      session.delete(key);
      return value;
    }
    const json = await this.#store(() => atomic.take(session.id, key));
    session.dropTaken(key);
    return json === undefined ? undefined : JSON.parse(json);
  }

  /**
   * Flushes if dirty and gives the session Set-Cookie value to send, if any: at once when there
   * is nothing to flush, else through a Promise that rejects with SessionStoreError when the
   * flush fails (the caller answers 503 instead of a response that silently lost data).
   */
  commit(): Promise<string | undefined> | string | undefined {
    const pending = this.#pending;
    if (pending !== undefined) {
      // Operations nobody awaited finish first; they may start more, so commit again after.
      this.#pending = undefined;
      return Promise.all(pending).then(() => this.commit());
    }
    const session = this.#session;
    // Renewal (renewal_duration) of a session read in this request: rare, so one check here.
    if (session !== undefined && !this.#idChanged && !this.#renewedElsewhere && this.#factory.renewalDue(session)) return this.#renew(session);
    if (session?.isDirty) {
      if (session.isNew) this.#factory.abuse?.creating(this.#client);
      if (session.isNew && session.csrfToken === undefined && this.#browserToken !== undefined) session.setCsrfToken(this.#browserToken);
      const client = session.owner === undefined ? undefined : this.#client;
      // Before the flush adds its own keys (the device, the meta): did the request change the data?
      const changed = session.hasChanges;
      const on = channels.sessionFlush;
      // #held: a move changeId left for the flush is made by the flush itself (one step of the store).
      const flushed = on.hasSubscribers
        ? this.#traced(on, this.#flushTrace(session.id, session.change, this.#factory.merges), () => this.#factory.flush(session, client && writtenBy(client)), undefined, true)
        : this.#held(() => this.#factory.flush(session, client && writtenBy(client)));
      const owner = this.#trimOwner;
      if (owner === undefined) return flushed.then(() => this.#flushed(session, changed));
      this.#trimOwner = undefined;
      // A login under max_sessions_per_user (end_least_recent): the user's oldest-used others past the cap end now.
      return flushed.then(() => session.owner === owner ? this.#store(() => this.#factory.trimToCap(owner, session.id)) : undefined).then(() => this.#flushed(session, changed));
    }
    if (session === undefined && this.#unread !== undefined) return this.#flushUnread(this.#cookieId!, this.#unread);
    return this.#cookie(session);
  }

  /**
   * The commit of writes nothing read: one engine call. For a session the store does not know
   * (expired, destroyed, never issued) the writes go to a new session instead, as they would
   * have after a read that found nothing: the client's id is never adopted.
   */
  #flushUnread(id: string, unread: UnreadWrites): Promise<string | undefined> | string | undefined {
    const change = unread.change();
    const on = channels.sessionFlush;
    return (on.hasSubscribers ? this.#traced(on, this.#flushTrace(id, change, true), () => unread.flush(id, change)) : this.#store(() => unread.flush(id, change))).then(flushed => {
      const factory = this.#factory;
      if (flushed) {
        this.#unread = undefined;
        return factory.persistentFor(flushed.lifetime) ? factory.cookieFor(id, flushed.lifetime, this.cookie) : undefined;
      }
      this.#cookieId = undefined;
      this.#staleCookie = true;
      const reported = this.#unknownId();
      if (change.set.size > 0) this.#adopt(this.#create());
      if (reported !== undefined) return reported.then(() => this.commit());
      this.#unread = undefined;
      return this.commit();
    });
  }

  /**
   * Gives the session its new id (docs/design.md#renewal-with-a-grace-window), then commits: the
   * renewal time goes out with the flush under the new id, and the cookie with it. The CSRF token
   * stays, so a form another tab rendered before the renewal still posts. When a concurrent
   * request renewed first, this one keeps the old id (its write is forwarded) and sends no cookie.
   */
  #renew(session: Session): Promise<string | undefined> {
    this.#idChanged = true;
    const oldId = session.id;
    return this.#store(() => this.#factory.renew(session)).then(async renewed => {
      if (renewed === undefined) {
        this.#idChanged = false;
        this.#renewedElsewhere = true;
      } else {
        this.#session = renewed;
        renewed.markRenewed(Date.now());
        await this.#events?.('session.id_changed', renewed.id, oldId);
      }
      return this.commit();
    });
  }

  /** The user this request logged in, when max_sessions_per_user trims after the flush (end_least_recent). */
  #trimOwner: string | undefined;

  /** A concurrent request renewed this session: the commit must not try again. */
  #renewedElsewhere = false;

  /** A new session, marked as made over HTTPS when this request's cookie is the Secure one. */
  #create(): Session {
    return this.#factory.create(this.cookie.secure);
  }

  /** Makes `session` this request's session, with the writes made before it replayed onto it. */
  #adopt(session: Session): Session {
    if (this.#session) return this.#session;
    this.#session = session;
    const unread = this.#unread;
    if (unread !== undefined) {
      this.#unread = undefined;
      unread.replayOnto(session);
    }
    return session;
  }

  /**
   * After a flush: the session hooks, then the cookie. `changed`: the request changed the data (a
   * new id the flush only moved is no flush of the request's changes, as on every engine).
   */
  #flushed(session: Session, changed: boolean): Promise<string | undefined> | string | undefined {
    const events = this.#events;
    if (!events) return this.#cookie(session);
    const created = session.isNew ? events('session.created', session.id) : undefined;
    const flushed = changed ? events('session.flushed', session.id) : undefined;
    return Promise.all([created, flushed]).then(() => this.#cookie(session));
  }

  /** The Set-Cookie value for the end of this request (see the rules at the top). */
  #cookie(session: Session | undefined): string | undefined {
    const factory = this.#factory;
    if (session) {
      const stored = !session.isNew || session.isDirty;
      if (stored && (session.isNew || this.#idChanged || session.lifetimeChanged || this.#fromPrevious || factory.persistentCookie(session) || factory.mustReseal(session))) {
        return factory.cookie(session, this.cookie);
      }
    }
    if (this.#destroyed || this.#staleCookie) return factory.expiredCookie(this.cookie);
    return undefined;
  }

  /** The payload of a traced flush (base/tracing.ts): counts and the handle, never the id. */
  #flushTrace(id: string, change: SessionChange, merged: boolean) {
    return { req: this.#client?.req, handle: this.#factory.handleOf(id), changed: changedKeys(change), merged, isNew: change.isNew };
  }

  #load(id: string): Promise<Session | undefined> {
    // A client past its budget of unknown ids is refused before the store is asked (abuse/).
    const blocked = this.#factory.abuse?.blocked(this.#client);
    if (blocked !== undefined) return Promise.reject(blocked);
    const on = channels.sessionLoad;
    let loading: Promise<Session | undefined>;
    if (on.hasSubscribers) {
      const payload = { req: this.#client?.req, found: false, handle: undefined as string | undefined };
      loading = this.#traced(on, payload, () => this.#factory.retrieve(id), session => {
        payload.found = session !== undefined;
        // The handle of the id inside: with the Cookie engine the cookie value is the seal, not the id.
        if (session !== undefined) payload.handle = this.#factory.handleOf(session.id);
      });
    } else {
      loading = this.#store(() => this.#factory.retrieve(id));
    }
    return loading.then(found => {
      // A session made over HTTPS had a prefixed cookie from the start: under a previous name
      // its id was planted (a sibling subdomain can set `sid`, not `__Host-sid`), so unknown.
      const session = found !== undefined && this.#fromPrevious && found.madeOverHttps ? undefined : found;
      if (session) {
        // Read through a renewal's old id in its grace window: the response gives the new id.
        if (session.arrivedRenewed) this.#idChanged = true;
        this.#adopt(session);
        const loaded = this.#events?.('session.loaded', id);
        if (loaded) return loaded.then(() => this.#session);
      } else {
        this.#cookieId = undefined;
        this.#staleCookie = true;
        // Writes made before this read go to a new session (get() would make one anyway).
        if (this.#unread !== undefined) this.#adopt(this.#create());
        const reported = this.#unknownId();
        if (reported !== undefined) return reported.then(() => this.#session);
      }
      return this.#session;
    });
  }

  /** The request's cookie named no session: counted per client; the hook runs when it passes the limit. */
  #unknownId(): Promise<void> | undefined {
    const abuse = this.#factory.abuse;
    if (abuse === undefined || !abuse.unknownId(this.#client)) return undefined;
    return this.#events?.('session.id_guessing', this.#client?.clientIp() ?? 'unknown');
  }
}

/** How many keys a change touches, for a flush's trace (a clear counts one). */
function changedKeys(change: SessionChange): number {
  return change.set.size + change.deleted.size + change.incremented.size + change.pushed.size + (change.cleared ? 1 : 0);
}

const DONE: Promise<void> = Promise.resolve();
const same = <T>(value: T): T => value;
const NOTHING: readonly string[] = Object.freeze([]);
