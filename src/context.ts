/**
 * The per-request Context: what came in (method, path, query, params, headers, cookies, body),
 * what goes out (status, headers, cookies, body) and the lazy session. Every keyword of the DSL
 * is a method here too, for users who prefer `ctx.session('user')` to `session('user')`.
 *
 * Everything that costs work (query, cookies, body, session) is built on first use only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies, serialize as serializeCookie, type SerializeOptions } from 'cookie';
import { readBody } from './body.ts';
import type { Settings } from './config.ts';
import { Halt, HttpError, OutsideRequestError, Pass } from './errors.ts';
import type { SessionFactory } from './session/factory.ts';
import { RequestSession } from './session/request-session.ts';
import type { Session, SessionKey, SessionValue } from './session/session.ts';
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

export class Context {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly settings: Settings;
  readonly method: string;
  /** The URL path, as sent (still percent-encoded). */
  readonly path: string;
  /** Route params (`:name`), decoded. Set by the app when a route matches. */
  routeParams: Record<string, string> = EMPTY;
  /** Captures of `*` and `**` in the route, decoded. */
  splat: string[] = [];

  /** Response state; the app writes it out after the session is committed. */
  responseStatus = 200;
  readonly responseHeaders: Record<string, string | string[]> = Object.create(null);
  responseBody: unknown = undefined;

  readonly #search: string;
  readonly #sessions: SessionFactory;
  #query: UrlencodedValues | undefined;
  #cookies: Record<string, string | undefined> | undefined;
  #body: Promise<unknown> | undefined;
  #session: RequestSession | undefined;
  readonly #views: Views | undefined;
  #form: Promise<MultipartForm> | undefined;
  #vars: Record<string, unknown> | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, settings: Settings, sessions: SessionFactory, views?: Views) {
    this.req = req;
    this.res = res;
    this.settings = settings;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.#search = q === -1 ? '' : url.slice(q + 1);
    this.#sessions = sessions;
    this.#views = views;
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
    if (!this.#views) return Promise.reject(new TypeError('template(): this app has no views (build it with createApp)'));
    return this.#views.render(this, name, tokens, options);
  }

  /** Sends the file at `path` as the response (return it from the route): ETag, Range, 304; 404 when missing. */
  sendFile(path: string, options?: SendFileOptions): Promise<FileBody> {
    return fileBody(path, options).then(file => (this.responseBody = file));
  }

  /** The request's stash: what before hooks and routes leave for later steps and templates (`vars`). */
  get vars(): Record<string, unknown> {
    return (this.#vars ??= Object.create(null));
  }

  /** The session if the request has one (a cookie the store knows), without creating one. */
  findSession(): Promise<Session | undefined> {
    return this.#requestSession().find();
  }

  /** One parameter (route params first, then the query string), or all of them merged. */
  params(): Record<string, string | string[]>;
  params(name: string): string | string[] | undefined;
  params(name?: string) {
    if (name === undefined) return Object.assign(Object.create(null), this.query, this.routeParams);
    return this.routeParams[name] ?? this.query[name];
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

  /** Reads the response status, or sets it. */
  status(code?: number): number {
    if (code !== undefined) {
      if (!Number.isInteger(code) || code < 100 || code > 599) throw new TypeError(`status(${code}): expected an integer from 100 to 599`);
      this.responseStatus = code;
    }
    return this.responseStatus;
  }

  /** Reads a request header, or sets a response header. */
  header(name: string, value?: string | number | string[]): string | string[] | undefined {
    if (value === undefined) return this.req.headers[name.toLowerCase()];
    this.responseHeaders[name.toLowerCase()] = typeof value === 'number' ? String(value) : value;
    return undefined;
  }

  /** Reads a request cookie, or sets a response cookie (`cookie` package options). */
  cookie(name: string, value?: string, options?: CookieOptions): string | undefined {
    if (value === undefined) return this.cookies[name];
    this.appendSetCookie(serializeCookie(name, value, { path: '/', ...options }));
    return undefined;
  }

  /** Ends the request with a redirect. User `after` hooks and the session hook still run. */
  redirect(location: string, status = 302): never {
    this.responseStatus = status;
    this.responseHeaders.location = location;
    this.responseBody = '';
    throw new Halt(true);
  }

  /** Ends the request now with `body` (if given). `after` hooks are skipped; the session is saved. */
  halt(body?: unknown): never {
    if (body !== undefined) this.responseBody = body;
    throw new Halt(false);
  }

  /** Ends the request with an error page: `sendError('Nope', 403)`. */
  sendError(message: string, status = 500): never {
    throw new HttpError(status, message, { expose: true });
  }

  /** Skips to the next route that matches. */
  pass(): never {
    throw new Pass();
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
    if (args.length === 0) return sessions.get();
    const key = args[0]!;
    if (args.length === 1) return sessions.find().then(session => session?.get(key));
    const value = args[1];
    return (value === undefined ? sessions.find() : sessions.get()).then(session => session?.set(key, value));
  }

  /** Deletes the session from the store and expires the cookie. */
  destroySession(): Promise<void> {
    return this.#requestSession().destroy();
  }

  /** Moves the session to a new id (call it after login); returns the new id. */
  changeSessionId(): Promise<string> {
    return this.#requestSession().changeId();
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

  #requestSession(): RequestSession {
    const factory = this.#sessions;
    return (this.#session ??= new RequestSession(factory, this.cookies[factory.policy.cookie_name]));
  }
}

const EMPTY: Record<string, string> = Object.freeze(Object.create(null));
