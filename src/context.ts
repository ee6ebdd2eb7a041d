/**
 * The per-request Context: what came in (method, path, query, params, headers, cookies, body),
 * what goes out (status, headers, cookies, body) and the lazy session. Every keyword of the DSL
 * is a method here too, for users who prefer `ctx.session('user')` to `session('user')`.
 *
 * Everything that costs work (query, cookies, body, session) is built on first use only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie, type SerializeOptions } from 'cookie';
import { readBody } from './body.ts';
import type { Settings } from './config.ts';
import type { Hooks } from './hooks.ts';
import type { Log, LogEvent } from './logger.ts';
import { Forward, Halt, HttpError, OutsideRequestError, Pass } from './errors.ts';
import { checkHeader, locationHeader } from './header-check.ts';
import type { AnyParams } from './route-params.ts';

/** What the control-flow keywords throw. */
export type Signal = Halt | Pass | Forward | HttpError;
import type { SessionFactory } from './session/factory.ts';
import { RequestSession, type SessionEvent } from './session/request-session.ts';
import type { FlashKey, FlashValue, PushItem, Session, SessionKey, SessionValue } from './session/session.ts';
import { FLASH_PREFIX } from './session/session-meta.ts';
import { parseUrlencoded, type UrlencodedValues } from './urlencoded.ts';
import { fileBody, type FileBody, type SendFileOptions } from './send-file.ts';
import { isMultipart, readMultipart, type MultipartForm, type Upload } from './upload.ts';
import type { TemplateOptions, Views } from './views/views.ts';

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
  readonly hooks: Hooks;
}

export class Context<Params extends object = AnyParams> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly settings: Settings;
  /** The request method; `forward()` may change it. */
  method: string;
  /** The URL path, as sent (still percent-encoded); `forward()` may change it. */
  path: string;
  /**
   * The route's params (`:name`), decoded, on a null-prototype object: `ctx.params.id`, typed
   * from the pattern. Set when a route matches; an absent optional param is missing.
   */
  params: Params = EMPTY as Params;
  /** Captures of `*` and `**` in the route, decoded. */
  splat: string[] = [];

  /** Response state; the app writes it out after the session is committed. */
  responseStatus = 200;
  readonly responseHeaders: Record<string, string | string[]> = Object.create(null);
  responseBody: unknown = undefined;
  /**
   * The headers an error response keeps: those set by before hooks (CORS, security headers).
   * Undefined when there are no before hooks; set by the pipeline.
   */
  keptHeaders: Record<string, string | string[]> | undefined = undefined;
  /** How many times forward() re-dispatched this request (a loop is cut off). */
  forwards = 0;

  #search: string;
  readonly #services: RequestServices;
  #query: UrlencodedValues | undefined;
  #cookies: Record<string, string | undefined> | undefined;
  #body: Promise<unknown> | undefined;
  /** The body once read before the route (see preloadBody), for the synchronous param(). */
  #settledBody: { value: unknown } | { error: unknown } | undefined;
  #session: RequestSession | undefined;
  #form: Promise<MultipartForm> | undefined;
  #vars: Record<string, unknown> | undefined;

  /** Use App.handle: `services` are the app's parts a request uses, shared by its requests. */
  constructor(req: IncomingMessage, res: ServerResponse, services: RequestServices) {
    this.req = req;
    this.res = res;
    this.#services = services;
    this.settings = services.settings;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.#search = q === -1 ? '' : url.slice(q + 1);
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /** The query string; a key given twice is an array. Malformed encoding is a 400. */
  get query(): UrlencodedValues {
    return (this.#query ??= parseUrlencoded(this.#search, 'query string'));
  }

  /** Request cookies, parsed leniently (bad pairs skipped, first value wins). */
  get cookies(): Record<string, string | undefined> {
    return (this.#cookies ??= parseCookies(this.req.headers.cookie ?? ''));
  }

  /** The parsed body (see body.ts; for multipart/form-data, the fields: upload.ts), read once on first call. */
  body<T = any>(): Promise<T> {
    return (this.#body ??= isMultipart(this.req) ? this.#multipart().then(form => form.fields) : readBody(this.req, this.settings.max_body_size)) as Promise<T>;
  }

  // Views and files (views/views.ts, send-file.ts, upload.ts).

  /** The file(s) uploaded in the multipart field `name`: one, an array when several, or undefined. */
  upload(name: string): Promise<Upload | Upload[] | undefined> {
    if (!isMultipart(this.req)) return Promise.resolve(undefined);
    return this.#multipart().then(form => {
      const files = form.files[name];
      return files === undefined ? undefined : files.length === 1 ? files[0] : files;
    });
  }

  #multipart(): Promise<MultipartForm> {
    const { max_body_size, max_file_size, max_files } = this.settings;
    return (this.#form ??= readMultipart(this.req, this.res, { maxBodySize: max_body_size, maxFileSize: max_file_size, maxFiles: max_files }));
  }

  /** Renders `views/<name>` inside the layout: `return template('index', { user })`. */
  template(name: string, tokens?: Record<string, unknown>, options?: TemplateOptions): Promise<string> {
    const views = this.#services.views;
    if (!views) return Promise.reject(new TypeError('template(): this app has no views (build it with createApp)'));
    return views.render(this as Context, name, tokens, options);
  }

  /** Sends the file at `path` as the response (return it from the route): ETag, Range, 304; 404 when missing. */
  sendFile(path: string, options?: SendFileOptions): Promise<FileBody> {
    return fileBody(path, options).then(file => (this.responseBody = file));
  }

  /** The session if the request has one (a cookie the store knows), without creating one. */
  findSession(): Promise<Session | undefined> {
    return this.#requestSession().find();
  }

  /**
   * Reads a form or JSON body before the route runs, so that `param()` and `bodyParameters()`
   * can be synchronous, as Dancer2's are. Undefined (no work at all) for a request without such a
   * body. A body that fails to parse is kept as its error: only a route that asks for it fails.
   */
  preloadBody(): Promise<void> | undefined {
    if (!hasParameterBody(this.req)) return undefined;
    return this.body().then(
      value => void (this.#settledBody = { value }),
      error => void (this.#settledBody = { error }),
    );
  }

  /** One parameter, as Dancer2's `param`: route params first, then the body, then the query. */
  param(name: string): string | string[] | undefined {
    const fromRoute = (this.params as AnyParams)[name];
    if (fromRoute !== undefined) return fromRoute;
    const body = this.bodyParameters();
    if (Object.hasOwn(body, name)) return body[name] as string | string[];
    return this.query[name];
  }

  /** Every parameter merged: the query, then the body over it, then the route's params over both. */
  parameters(): Record<string, unknown> {
    return Object.assign(Object.create(null), this.query, this.bodyParameters(), this.params);
  }

  /** The route's params only (the same object as `ctx.params`). */
  routeParameters(): Params {
    return this.params;
  }

  /** The query string's params only; a key given twice is an array. */
  queryParameters(): UrlencodedValues {
    return this.query;
  }

  /**
   * The form or JSON object body's params only (read before the route); `{}` for no body or a
   * body of another type. A body that could not be parsed throws its 400 here.
   */
  bodyParameters(): Record<string, unknown> {
    const settled = this.#settledBody;
    if (settled === undefined) return EMPTY;
    if ('error' in settled) throw settled.error;
    const value = settled.value;
    return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array) ? (value as Record<string, unknown>) : EMPTY;
  }

  /**
   * The per-request stash shared by hooks, the route and templates (Dancer2's `var`, which is a
   * reserved word here): `vars()` all of it, `vars(name)` one value, `vars(name, value)` sets one.
   */
  vars(): Record<string, unknown>;
  vars(name: string): unknown;
  vars(name: string, value: unknown): void;
  vars(...args: [name?: string, value?: unknown]): unknown {
    const stash = (this.#vars ??= Object.create(null) as Record<string, unknown>);
    if (args.length === 0) return stash;
    if (args.length === 1) return stash[args[0]!];
    stash[args[0]!] = args[1];
    return undefined;
  }

  /** This request (the Context itself): method, path, query, headers, cookies, body(). */
  request(): this {
    return this;
  }

  /** One setting of the app: `setting('environment')`. */
  setting<K extends keyof Settings>(name: K): Settings[K] {
    return this.settings[name];
  }

  /** All settings of the app. */
  config(): Settings {
    return this.settings;
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
      this.responseStatus = code;
    }
    return this.responseStatus;
  }

  /**
   * Sets the response's Content-Type: a full type (`'text/csv; charset=utf-8'`) or a short name
   * (`html`, `json`, `text`, `xml`, `css`, `js`, `csv`, `svg`, `bin`). Returns what is set.
   */
  contentType(type?: string): string | undefined {
    if (type !== undefined) this.responseHeader('content-type', CONTENT_TYPES[type] ?? type);
    const current = this.responseHeaders['content-type'];
    return Array.isArray(current) ? current[0] : current;
  }

  /** Reads a response header set so far, or sets one (`header(name)` reads the request's). */
  responseHeader(name: string, value?: string | number | string[]): string | string[] | undefined {
    if (value === undefined) return this.responseHeaders[name.toLowerCase()];
    this.header(name, value);
    return undefined;
  }

  /**
   * An absolute URL for `path` on this server, from the request's Host (and `https` when the
   * connection is TLS): `uriFor('/users', { page: 2 })` -> `http://example.com/users?page=2`.
   */
  uriFor(path: string, query?: Record<string, string | number | boolean>): string {
    const secure = (this.req.socket as { encrypted?: boolean }).encrypted === true;
    const host = this.req.headers.host ?? `${this.req.socket.localAddress}:${this.req.socket.localPort}`;
    const url = new URL(path.startsWith('/') ? path : `/${path}`, `${secure ? 'https' : 'http'}://${host}`);
    if (query) for (const [key, value] of Object.entries(query)) url.searchParams.append(key, String(value));
    return url.href;
  }

  /**
   * Ends this route and dispatches the request again to `path` (and `method`, default the same),
   * inside the app: the same request, session and vars; before hooks do not run again.
   */
  forward(path: string, options: { method?: string } = {}): never {
    throw this.#signal(new Forward(path, options.method));
  }

  /**
   * Reads a request header, or sets a response header. A name or value node:http would refuse
   * (CR, LF, other control characters) is a TypeError here, so the route fails and saves nothing.
   */
  header(name: string, value?: string | number | string[]): string | string[] | undefined {
    if (value === undefined) return this.req.headers[name.toLowerCase()];
    const text = typeof value === 'number' ? String(value) : value;
    checkHeader(name, text);
    this.responseHeaders[name.toLowerCase()] = text;
    return undefined;
  }

  /**
   * Reads a request cookie, or sets a response cookie (`cookie` package options). The `cookie`
   * package throws a TypeError naming a name, value or option that a header cannot carry.
   */
  cookie(name: string, value?: string, options?: CookieOptions): string | undefined {
    if (value === undefined) return this.cookies[name];
    this.appendSetCookie(serializeCookie(name, value, { path: '/', ...options }));
    return undefined;
  }

  /**
   * Ends the request with a redirect. User `after` hooks and the session hook still run. The
   * target is percent-encoded as Express does (`/café` -> `/caf%C3%A9`, `%20` kept); control
   * characters in it (CR, LF, ...) are a TypeError.
   */
  redirect(location: string, status = 302): never {
    this.responseHeaders.location = locationHeader(location);
    this.responseStatus = status;
    this.responseBody = '';
    throw this.#signal(new Halt(true));
  }

  /** Ends the request now with `body` (if given). `after` hooks are skipped; the session is saved. */
  halt(body?: unknown): never {
    if (body !== undefined) this.responseBody = body;
    throw this.#signal(new Halt(false));
  }

  /** Ends the request with an error page: `sendError('Nope', 403)`. */
  sendError(message: string, status = 500): never {
    throw this.#signal(new HttpError(status, message, { expose: true }));
  }

  /** Skips to the next route that matches. */
  pass(): never {
    throw this.#signal(new Pass());
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
    if (args.length === 0) return sessions.track(sessions.get());
    const key = args[0]!;
    if (args.length === 1) return sessions.find().then(session => session?.get(key));
    const value = args[1];
    return sessions.track((value === undefined ? sessions.find() : sessions.get()).then(session => session?.set(key, value)));
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
    if (args.length === 1) return sessions.track(sessions.take(stored));
    return sessions.track(sessions.get().then(session => session.set(stored, args[1])));
  }

  /** The request's session state, if the route touched it (used by the app's session hook). */
  get sessionState(): RequestSession | undefined {
    return this.#session;
  }

  /** Adds a Set-Cookie header value. */
  appendSetCookie(value: string): void {
    const existing = this.responseHeaders['set-cookie'];
    if (existing === undefined) this.responseHeaders['set-cookie'] = [value];
    else if (Array.isArray(existing)) existing.push(value);
    else this.responseHeaders['set-cookie'] = [existing, value];
  }

  /**
   * The control-flow signal (halt, redirect, pass, forward, sendError) thrown in this step and
   * not yet handled by the pipeline. A signal is thrown, and also kept here, so that a route
   * that catches it by accident (`try { redirect('/x') } catch {}`) still ends as it asked:
   * the pipeline takes it from here when the step returns normally.
   */
  pendingSignal: Signal | undefined;

  /** Records `signal` as pending and returns it, to be thrown. */
  #signal<S extends Signal>(signal: S): S {
    this.pendingSignal = signal;
    return signal;
  }

  /**
   * Points this request at another path (and method) for `forward()`; the pipeline routes it
   * again. The query string of `target`, if any, replaces the old one.
   */
  retarget(target: string, method: string | undefined): void {
    const q = target.indexOf('?');
    this.path = q === -1 ? target : target.slice(0, q);
    if (q !== -1) {
      this.#search = target.slice(q + 1);
      this.#query = undefined;
    }
    if (method !== undefined) this.method = method.toUpperCase();
  }

  #requestSession(): RequestSession {
    if (this.#session) return this.#session;
    const { sessions: factory, hooks } = this.#services;
    const events = hooks.hasSessionHooks ? (event: SessionEvent, id: string, previousId?: string) => hooks.runSessionHooks(event, this as Context, id, previousId, this.#services.log) : undefined;
    return (this.#session = new RequestSession(factory, this.cookies[factory.policy.cookie_name], events));
  }
}

const EMPTY: Record<string, any> = Object.freeze(Object.create(null));

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', json: 'application/json; charset=utf-8', text: 'text/plain; charset=utf-8',
  xml: 'application/xml; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8',
  csv: 'text/csv; charset=utf-8', svg: 'image/svg+xml', bin: 'application/octet-stream',
};

/** Whether the request carries a body that param() reads: JSON or a urlencoded form. */
function hasParameterBody(req: IncomingMessage): boolean {
  const headers = req.headers;
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return false;
  const type = headers['content-type'];
  if (type === undefined) return false;
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('application/json') || /^[^;]*\+json/.test(type);
}
