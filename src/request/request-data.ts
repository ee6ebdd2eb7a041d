/**
 * What came in, for one request: method, path, the route's params, query, headers, cookies, the
 * body (read once: lazily, or before the route for param(); a multipart one only on first use),
 * uploads, the per-request stash.
 * Everything that costs work is built on first use only. Context (context.ts) extends this
 * with the response, the session and the control-flow keywords.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseCookies } from 'cookie';
import { readBody } from './body.ts';
import type { Settings } from '../config/config.ts';
import type { AnyParams } from './route-params.ts';
import { publicSettings, type PublicSettings } from '../config/secret-settings.ts';
import { parseUrlencoded, type UrlencodedValues } from './urlencoded.ts';
import { isMultipart, readMultipart, type MultipartForm, type Upload } from './upload.ts';

export class RequestData<Params extends object = AnyParams> {
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
  /** Captures of `*` and `**` in the route, decoded; set when a route matches. */
  splat: string[] = NO_SPLAT;

  #search: string;
  #query: UrlencodedValues | undefined;
  #cookies: Record<string, string | undefined> | undefined;
  #body: Promise<unknown> | undefined;
  /** The body once read before the route (see preloadBody), for the synchronous param(). */
  #settledBody: { value: unknown } | { error: unknown } | undefined;
  #form: Promise<MultipartForm> | undefined;
  #vars: Record<string, unknown> | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, settings: Settings) {
    this.req = req;
    this.res = res;
    this.settings = settings;
    this.method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.#search = q === -1 ? '' : url.slice(q + 1);
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /**
   * The client's address: the socket's peer, or with the `trust_proxy` setting the first address
   * of X-Forwarded-For (what the proxy says the client was; without trust_proxy any client could
   * write that header).
   */
  clientIp(): string | undefined {
    if (this.settings.trust_proxy) {
      const forwarded = this.req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]!.trim();
      if (first) return first;
    }
    return this.req.socket.remoteAddress;
  }

  /**
   * Whether the request came over HTTPS: a TLS socket, or with the `trust_proxy` setting
   * `X-Forwarded-Proto: https` (its first value, as clientIp takes X-Forwarded-For's first: what
   * the proxy says the client used). Without trust_proxy the header is ignored: any client could
   * write it. The session cookie's Secure flag and prefix follow it (session/session-cookie.ts).
   */
  isSecure(): boolean {
    if ((this.req.socket as { encrypted?: boolean }).encrypted === true) return true;
    if (!this.settings.trust_proxy) return false;
    const proto = this.req.headers['x-forwarded-proto'];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',', 1)[0]!.trim().toLowerCase();
    return first === 'https';
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

  /** The file(s) uploaded in the multipart field `name`: one, an array when several, or undefined. */
  upload(name: string): Promise<Upload | Upload[] | undefined> {
    if (!isMultipart(this.req)) return Promise.resolve(undefined);
    return this.#multipart().then(form => {
      const files = form.files[name];
      return files === undefined ? undefined : files.length === 1 ? files[0] : files;
    });
  }

  /**
   * The multipart body, read on the first upload() or body() (or by the CSRF check), never before
   * the route as preloadBody reads a form: that would write the files of every multipart request
   * to disk before the hooks and the match have had their say. Once read, its fields (or its
   * error) are what the synchronous param() and bodyParameters() see.
   */
  #multipart(): Promise<MultipartForm> {
    if (this.#form !== undefined) return this.#form;
    const { max_body_size, max_file_size, max_files } = this.settings;
    return (this.#form = readMultipart(this.req, this.res, { maxBodySize: max_body_size, maxFileSize: max_file_size, maxFiles: max_files }).then(
      form => {
        this.#settledBody = { value: form.fields };
        return form;
      },
      error => {
        this.#settledBody = { error };
        throw error;
      },
    ));
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

  /**
   * One parameter, as Dancer2's `param`: route params first, then the body, then the query.
   * Synchronous: a form or JSON body was read before the route; a multipart body's text fields
   * count once it has been read (`await upload()`, `await body()`, or the CSRF check).
   */
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
   * The form or JSON object body's params only (read before the route), or a multipart body's
   * text fields once it has been read; `{}` for no body, a body of another type or a multipart
   * body not read yet. A body that could not be read throws its error here (400, 413).
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

  /** One setting of the app, secrets hidden: `setting('environment')`, `setting('session')` (the engine's name). */
  setting<K extends keyof PublicSettings>(name: K): PublicSettings[K] {
    return publicSettings(this.settings)[name];
  }

  /** All settings of the app as `setting(name)` shows each (secret-settings.ts). */
  config(): Readonly<PublicSettings> {
    return publicSettings(this.settings);
  }

  /**
   * An absolute URL for `path` on this server, from the request's Host (and `https` when the
   * request came over HTTPS: TLS, or a trusted proxy's X-Forwarded-Proto, as isSecure says):
   * `uriFor('/users', { page: 2 })` -> `http://example.com/users?page=2`.
   */
  uriFor(path: string, query?: Record<string, string | number | boolean>): string {
    const secure = this.isSecure();
    const host = this.req.headers.host ?? `${this.req.socket.localAddress}:${this.req.socket.localPort}`;
    const url = new URL(path.startsWith('/') ? path : `/${path}`, `${secure ? 'https' : 'http'}://${host}`);
    if (query) for (const [key, value] of Object.entries(query)) url.searchParams.append(key, String(value));
    return url.href;
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
}

const EMPTY: Record<string, any> = Object.freeze(Object.create(null));
/** `splat` before a route matches: one shared array, not one per request. */
const NO_SPLAT: string[] = Object.freeze([]) as unknown as string[];

/** Whether the request carries a body that param() reads: JSON or a urlencoded form. */
function hasParameterBody(req: IncomingMessage): boolean {
  const headers = req.headers;
  if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return false;
  const type = headers['content-type'];
  if (type === undefined) return false;
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('application/json') || /^[^;]*\+json/.test(type);
}
