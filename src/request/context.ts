/**
 * The per-request Context: the façade user code sees. It is made of parts: what came in
 * (RequestData, request-data.ts), what goes out (ResponseState, response/response-state.ts),
 * the lazy session (RequestSession), and the pipeline's own state of this request (the pending
 * signal; PipelineState), which only the request layer reaches, through the accessors below. Every keyword of the DSL is a method here too, for users
 * who prefer `ctx.session('user')` to `session('user')`.
 *
 * Everything that costs work (query, cookies, body, session, the pipeline state) is built on
 * first use only: a plain `() => 'hello'` request makes the Context and its ResponseState, no more
 * (the ResponseState's allocation is paid back by RequestData's shared empty `splat`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serialize as serializeCookie, type SerializeOptions } from 'cookie';
import type { Settings } from '../config/config.ts';
import type { Log, LogEvent } from '../base/logger.ts';
import { Forward, Halt, HttpError, OutsideRequestError, Pass } from '../base/errors.ts';
import { checkHeader, locationHeader } from './header-check.ts';
import { RequestData } from './request-data.ts';
import type { AnyParams } from './route-params.ts';
import type { SessionFactory } from '../session/factory.ts';
import { RequestSession, type SessionEvents } from '../session/request-session.ts';
import type { FlashKey, FlashValue, PushItem, SessionKey, SessionValue } from '../session/session-data.ts';
import type { Session } from '../session/session.ts';
import { newCsrfToken } from '../session/csrf-token.ts';
import { FLASH_PREFIX } from '../session/session-meta.ts';
import { callSite, type CallSite } from '../session/session-read.ts';
import type { UserSession } from '../session/user-sessions.ts';
import { fileBody, type FileBody, type SendFileOptions } from '../response/send-file.ts';
import type { TemplateOptions, Views } from '../views/views.ts';
import { ResponseState, type HeaderMap } from '../response/response-state.ts';

/** What the control-flow keywords throw. */
export type Signal = Halt | Pass | Forward | HttpError;

/** The Context of the request being handled, for the keyword functions. */
export const currentContext = new AsyncLocalStorage<Context>();

/** The current Context, or an OutsideRequestError naming `keyword`. */
export function current(keyword: string): Context {
  const ctx = currentContext.getStore();
  if (!ctx) throw new OutsideRequestError(keyword);
  return ctx;
}

export type CookieOptions = SerializeOptions;

/** The app's parts a request uses: one object per app, handed to each of its Contexts. */
export interface RequestServices {
  readonly settings: Settings;
  readonly sessions: SessionFactory;
  readonly log: Log;
  readonly views: Views | undefined;
  /**
   * Where the session of `ctx` reports its events (the app's session hooks, hooks.ts), or
   * undefined when nothing listens: asked once per request, when its session is first used.
   */
  sessionEvents(ctx: Context): SessionEvents | undefined;
}

/**
 * The pipeline's own state of one request (pipeline.ts) beyond its pending signal: made only for
 * a request that forwards or is CSRF-checked, off the public surface.
 */
export class PipelineState {
  /** How many times forward() re-dispatched this request (a loop is cut off). */
  forwards = 0;
  /** The CSRF check (csrf-check.ts) passed for this request: pass() and forward() skip it. */
  csrfChecked = false;
  /** The route's input as its schemas parsed it (validation/input.ts): `ctx.valid`. */
  valid: object | undefined = undefined;
}

// The parts of a Context only the request layer reaches (the pipeline, the error response, the
// CSRF check): set by the static block above, which alone sees the private fields. They are not
// exported from index.ts, so user code keeps to the keywords.

/** The response state of `ctx`, for the writers (response/*). */
export let responseOf: (ctx: Context) => ResponseState;
/** The signal `ctx`'s current step threw (and perhaps caught), not yet handled. */
export let pendingSignal: (ctx: Context) => Signal | undefined;
/** Forgets `ctx`'s pending signal: the pipeline (or a hook rule) has handled it. */
export let clearSignal: (ctx: Context) => void;
/** The pipeline's state of `ctx`, made on first need. */
export let pipelineState: (ctx: Context) => PipelineState;
/** `ctx`'s session state, if anything used the session (for the commit and the un-awaited read check). */
export let sessionOf: (ctx: Context) => RequestSession | undefined;
/** `ctx`'s session state, made now if need be (the CSRF check's expected token). */
export let requestSessionOf: (ctx: Context) => RequestSession;

const NO_VALID_INPUT: NoValidInput = Object.freeze({});

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', json: 'application/json; charset=utf-8', text: 'text/plain; charset=utf-8',
  xml: 'application/xml; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8',
  csv: 'text/csv; charset=utf-8', svg: 'image/svg+xml', bin: 'application/octet-stream',
};

/** `ctx.valid` of a route that declared no schemas: nothing to read. */
export type NoValidInput = {};

export class Context<Params extends object = AnyParams, Valid = NoValidInput> extends RequestData<Params> {
  readonly #services: RequestServices;
  /** What goes out; the app writes it after the session is committed. */
  readonly #response: ResponseState;
  #session: RequestSession | undefined = undefined;
  /**
   * The control-flow signal (halt, redirect, pass, forward, sendError) thrown in this step and
   * not yet handled by the pipeline. A signal is thrown, and also kept here, so that a route
   * that catches it by accident (`try { redirect('/x') } catch {}`) still ends as it asked:
   * the pipeline takes it from here when the step returns normally.
   */
  #signal: Signal | undefined = undefined;
  #state: PipelineState | undefined = undefined;

  /** Use App.handle: `services` are the app's parts a request uses, shared by its requests. */
  constructor(req: IncomingMessage, res: ServerResponse, services: RequestServices) {
    super(req, res, services.settings);
    this.#services = services;
    this.#response = new ResponseState(res);
  }

  /**
   * The route's params, query and body as the schemas of its options parsed them, typed from
   * them: `post('/notes/:id', { params, body }, ctx => ctx.valid.body.title)`
   * (request/validation/input.ts). Empty for a route without schemas, and before the route's input is validated (before hooks).
   */
  get valid(): Valid {
    return (this.#state?.valid ?? NO_VALID_INPUT) as Valid;
  }

  /** The response status so far (200 unless set); a hook may set it. */
  get responseStatus(): number {
    return this.#response.status;
  }
  set responseStatus(status: number) {
    this.#response.status = status;
  }

  /** The response headers so far, by lower-case name; `header()` sets one with its checks. */
  get responseHeaders(): HeaderMap {
    return this.#response.headers;
  }

  /** The response body so far: what the route returned, or what a hook or keyword set. */
  get responseBody(): unknown {
    return this.#response.body;
  }
  set responseBody(body: unknown) {
    this.#response.body = body;
  }

  /** Renders `views/<name>` inside the layout: `return template('index', { user })`. */
  template(name: string, tokens?: Record<string, unknown>, options?: TemplateOptions): Promise<string> {
    const views = this.#services.views;
    if (!views) return Promise.reject(new TypeError('template(): this app has no views (build it with createApp)'));
    return views.render(this, name, tokens, options);
  }

  /** Sends the file at `path` as the response (return it from the route): ETag, Range, 304; 404 when missing. */
  sendFile(path: string, options?: SendFileOptions): Promise<FileBody> {
    return fileBody(path, options).then(file => (this.#response.body = file));
  }

  /** The session if the request has one (a cookie the store knows), without creating one. */
  findSession(): Promise<Session | undefined> {
    const sessions = this.#requestSession();
    return sessions.read(sessions.find(), undefined, this.#site(this.findSession), 'findSession()');
  }

  /**
   * Logs one line through the app's logger (Dancer2's `debug`, `info`, `warning`, `error`:
   * `error` logs, it does not throw). Parts are joined as console.log joins them.
   */
  log(level: LogEvent, ...parts: unknown[]): void {
    this.#services.log(level, format(...parts));
  }

  /** Reads the response status, or sets it. */
  status(code?: number): number {
    if (code !== undefined) {
      if (!Number.isInteger(code) || code < 100 || code > 599) throw new TypeError(`status(${code}): expected an integer from 100 to 599`);
      this.#response.status = code;
    }
    return this.#response.status;
  }

  /**
   * Sets the response's Content-Type: a full type (`'text/csv; charset=utf-8'`) or a short name
   * (`html`, `json`, `text`, `xml`, `css`, `js`, `csv`, `svg`, `bin`). Returns what is set.
   */
  contentType(type?: string): string | undefined {
    if (type !== undefined) this.responseHeader('content-type', CONTENT_TYPES[type] ?? type);
    const current = this.#response.headers['content-type'];
    return Array.isArray(current) ? current[0] : current;
  }

  /** Reads a response header set so far, or sets one (`header(name)` reads the request's). */
  responseHeader(name: string, value?: string | number | string[]): string | string[] | undefined {
    if (value === undefined) return this.#response.headers[name.toLowerCase()];
    this.header(name, value);
    return undefined;
  }

  /**
   * Ends this route and dispatches the request again to `path` (and `method`, default the same),
   * inside the app: the same request, session and vars; before hooks do not run again.
   */
  forward(path: string, options: { method?: string } = {}): never {
    throw this.#pending(new Forward(path, options.method));
  }

  /**
   * Reads a request header, or sets a response header. A name or value node:http would refuse
   * (CR, LF, other control characters) is a TypeError here, so the route fails and saves nothing.
   */
  header(name: string, value?: string | number | string[]): string | string[] | undefined {
    if (value === undefined) return this.req.headers[name.toLowerCase()];
    const text = typeof value === 'number' ? String(value) : value;
    checkHeader(name, text);
    this.#response.headers[name.toLowerCase()] = text;
    return undefined;
  }

  /**
   * Reads a request cookie, or sets a response cookie (`cookie` package options). The `cookie`
   * package throws a TypeError naming a name, value or option that a header cannot carry.
   */
  cookie(name: string, value?: string, options?: CookieOptions): string | undefined {
    if (value === undefined) return this.cookies[name];
    this.#response.appendSetCookie(serializeCookie(name, value, { path: '/', ...options }));
    return undefined;
  }

  /**
   * Ends the request with a redirect. User `after` hooks and the session hook still run. The
   * target is percent-encoded as Express does (`/café` -> `/caf%C3%A9`, `%20` kept); control
   * characters in it (CR, LF, ...) are a TypeError.
   */
  redirect(location: string, status = 302): never {
    const response = this.#response;
    response.headers.location = locationHeader(location);
    response.status = status;
    response.body = '';
    throw this.#pending(new Halt(true));
  }

  /** Ends the request now with `body` (if given). `after` hooks are skipped; the session is saved. */
  halt(body?: unknown): never {
    if (body !== undefined) this.#response.body = body;
    throw this.#pending(new Halt(false));
  }

  /** Ends the request with an error page: `sendError('Nope', 403)`. */
  sendError(message: string, status = 500): never {
    throw this.#pending(new HttpError(status, message, { expose: true }));
  }

  /** Skips to the next route that matches. */
  pass(): never {
    throw this.#pending(new Pass());
  }

  /**
   * `session()` -> the Session (created if there is none); `session(key)` -> its value, or
   * undefined without creating anything; `session(key, value)` writes; `session(key, undefined)`
   * deletes.
   */
  session(): Promise<Session>;
  session<K extends SessionKey>(key: K): Promise<SessionValue<K> | undefined>;
  session<K extends SessionKey>(key: K, value: SessionValue<K> | undefined): Promise<void>;
  session(...args: [key?: string, value?: unknown]): Promise<unknown> {
    // Plain Promise chains rather than async/await: this is on every session request's path.
    const sessions = this.#requestSession();
    if (args.length === 0) return sessions.read(sessions.track(sessions.get()), undefined, this.#site(this.session), 'session()');
    const key = args[0]!;
    if (args.length === 1) return sessions.read(sessions.find(), session => session?.get(key), this.#site(this.session), 'session', key);
    const value = args[1];
    return sessions.track(sessions.write(key, value));
  }

  /** Deletes the session from the store and expires the cookie. */
  destroySession(): Promise<void> {
    const sessions = this.#requestSession();
    return sessions.track(sessions.destroy());
  }

  /** Moves the session to a new id (call it after login); returns the new id. */
  changeSessionId(): Promise<string> {
    const sessions = this.#requestSession();
    return sessions.track(sessions.changeId());
  }

  /**
   * Logs `userId` in on this session: records the owner (so userSessions lists it) and changes
   * the session id, as a login must. Returns the new id.
   */
  login(userId: string): Promise<string> {
    const sessions = this.#requestSession();
    return sessions.track(sessions.login(userId));
  }

  /** destroySession(): the session is deleted and leaves its owner's list. */
  logout(): Promise<void> {
    return this.destroySession();
  }

  /** The live sessions (devices) of `userId`, newest activity first; this request's is `current`. */
  userSessions(userId: string): Promise<UserSession[]> {
    // Not tracked for the commit: a read, which a route may catch and answer as it likes.
    const sessions = this.#requestSession();
    return sessions.read(sessions.userSessions(userId), undefined, this.#site(this.userSessions), 'userSessions(userId)');
  }

  /**
   * Ends every session of `userId` ("log out everywhere"), or every one but `except` (pass the
   * current session's id: "sign out everywhere else"), or only the one whose `handle`
   * userSessions showed (`{ only: handle }`: "sign out this device"); returns how many it ended.
   * If this request's session was among them, it goes as with destroySession.
   *
   * `{ credentialsChanged: true }`, after the user's password or another factor changed (ASVS
   * 7.4.3): every other session of the user ends (a stolen one included), and this request's, if
   * it is the user's, stays logged in under a new id; sessions established before it read as
   * unknown on every engine. Returns how many other sessions it ended.
   */
  destroyUserSessions(userId: string, options: { except?: string | undefined; only?: string | undefined; credentialsChanged?: boolean } = {}): Promise<number> {
    const sessions = this.#requestSession();
    if (options.credentialsChanged !== true) return sessions.track(sessions.destroyUserSessions(userId, options.except, options.only));
    if (options.except !== undefined || options.only !== undefined) return Promise.reject(new TypeError('destroyUserSessions(userId, { credentialsChanged: true }) keeps the current session itself: give no `except` or `only`'));
    return sessions.track(sessions.credentialsChanged(userId));
  }

  /**
   * The CSRF token for this request's forms, for a hidden `_csrf` field or an `X-CSRF-Token`
   * header (session/csrf-token.ts). With a session, the session's (made on first use, new after
   * login or changeSessionId()). Without one, the browser's, in a cookie of its own: an
   * anonymous login form stores no session and costs the store nothing.
   */
  csrfToken(): Promise<string> {
    const sessions = this.#requestSession();
    return sessions.read(sessions.track(sessions.csrfToken(() => this.#issueCsrfCookie())), undefined, this.#site(this.csrfToken), 'csrfToken()');
  }

  /** Where a session read starts, for the error if it is never awaited (session/session-read.ts). */
  #site(keyword: Function): CallSite | undefined {
    return this.settings.show_errors ? callSite(keyword) : undefined;
  }

  /** A new browser CSRF token, sent in its cookie with this response. */
  #issueCsrfCookie(): string {
    const token = newCsrfToken();
    const sessions = this.#requestSession();
    this.#response.appendSetCookie(this.#services.sessions.csrfCookie(token, sessions.cookie));
    return token;
  }

  /** Adds `by` to the number at `key` (concurrent increments add up); the new value. */
  increment(key: SessionKey, by?: number): Promise<number> {
    const sessions = this.#requestSession();
    return sessions.track(sessions.get().then(session => session.increment(key, by)));
  }

  /** Appends to the array at `key`, keeping the last `max` (concurrent pushes all survive). */
  push<K extends SessionKey>(key: K, value: PushItem<K>, options?: { max?: number }): Promise<PushItem<K>[]> {
    const sessions = this.#requestSession();
    return sessions.track(sessions.get().then(session => session.push(key, value, options)));
  }

  /**
   * `flash(key, value)` keeps a message for the next request that reads it; `flash(key)` returns
   * it and removes it in one step of the store, so it is shown once (two tabs never both show
   * it), and a request that does not read it leaves it for a later one.
   */
  flash<K extends FlashKey>(key: K): Promise<FlashValue<K> | undefined>;
  flash<K extends FlashKey>(key: K, value: FlashValue<K>): Promise<void>;
  flash(...args: [key: string, value?: unknown]): Promise<unknown> {
    const sessions = this.#requestSession();
    const stored = FLASH_PREFIX + args[0];
    if (args.length === 1) return sessions.read(sessions.track(sessions.take(stored)), undefined, this.#site(this.flash), 'flash', args[0]);
    return sessions.track(sessions.write(stored, args[1]));
  }

  /** Records `signal` as pending and returns it, to be thrown. */
  #pending<S extends Signal>(signal: S): S {
    this.#signal = signal;
    return signal;
  }

  #requestSession(): RequestSession {
    if (this.#session) return this.#session;
    const factory = this.#services.sessions;
    const cookies = this.cookies;
    const sent = factory.cookieOver(this.isSecure());
    const name = sent.nameIn(cookies);
    const fromPrevious = name !== undefined && name !== sent.name;
    // A cookie under a previous name (an upgrade): told to go now; the session, if found, is sent
    // under the current name at the commit (RequestSession), so the browser keeps its login.
    if (fromPrevious) this.#response.appendSetCookie(factory.expiredCookie(sent, name));
    const id = name === undefined ? undefined : cookies[name];
    return (this.#session = new RequestSession(factory, id, this.#services.sessionEvents(this as Context), this, cookies[sent.csrfName], sent, fromPrevious));
  }

  static {
    responseOf = ctx => ctx.#response;
    pendingSignal = ctx => ctx.#signal;
    clearSignal = ctx => {
      ctx.#signal = undefined;
    };
    pipelineState = ctx => (ctx.#state ??= new PipelineState());
    sessionOf = ctx => ctx.#session;
    requestSessionOf = ctx => ctx.#requestSession();
  }
}
