/**
 * App: one web application: its settings, routes, hooks and session factory, the request loop
 * (`handle`) and the server (`listen` / `close`). It is handed its parts and builds none of them:
 * createApp (create-app.ts) assembles an App. Several apps can live in one process; the DSL
 * keywords drive a default one built from config.yml.
 */
import { logAccessWhenDone } from './access-log.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readSettings, type Settings } from '../config/config.ts';
import { answerClientErrors } from './client-errors.ts';
import { limitPipelining } from './connection-limits.ts';
import { Context, currentContext, type RequestServices } from '../request/context.ts';
import { Hooks, type ErrorHook, type Hook, type SessionHook, type SessionHookName } from '../request/hooks.ts';
import { createLog, type Log, type LogEvent } from '../base/logger.ts';
import { Pipeline, type Handler } from '../request/pipeline.ts';
import { traceRequest } from '../request/request-trace.ts';
import { channels } from '../base/tracing.ts';
import { DeviceBinding } from '../request/dbsc/device-binding.ts';
import type { RouteParams } from '../request/route-params.ts';
import { checkInputSchemas, INPUT_PARTS, type ValidInput } from '../request/validation/input.ts';
import { NO_ROUTE_OPTIONS, Router, type RouteOptions } from '../request/router.ts';
import type { PublicFiles } from '../response/public-files.ts';
import type { SessionFactory } from '../session/factory.ts';
import type { Views } from '../views/views.ts';

export type { Handler, RouteOptions };

/**
 * What follows a route's pattern: its handler, or its options and then its handler (whose
 * `ctx.valid` is typed from the options' schemas).
 */
export type RouteArgs<P extends Pattern, O extends RouteOptions = RouteOptions> = [handler: Handler<RouteParams<P>>] | [options: O, handler: Handler<RouteParams<P>, ValidInput<O>>];
type AnyRouteArgs = [handler: Handler<any, any>] | [options: RouteOptions, handler: Handler<any, any>];

/**
 * A route keyword (`get`, `post`, ...): `(pattern, handler)` or `(pattern, options, handler)`.
 * Two signatures rather than RouteArgs, so that the compiler infers the options' type first and
 * types the handler's `ctx.valid` from it.
 */
export interface RouteMethod<R> {
  <P extends Pattern>(pattern: P, handler: Handler<RouteParams<P>>): R;
  <P extends Pattern, O extends RouteOptions>(pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): R;
}

/** A route pattern: `/users/:id`, `/files/**`, or a RegExp with named groups. */
export type Pattern = string | RegExp;

/**
 * Server options for `listen()`, in ms; the defaults suit production. `connectionsCheckingInterval`
 * is how often node checks `headersTimeout` and `requestTimeout` (node's default: 30 s).
 */
export interface ListenOptions {
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  connectionsCheckingInterval?: number;
  /**
   * Serve HTTPS with this key and certificate (PEM, as node:tls takes them) instead of plain
   * http: the session cookie is then Secure and `__Host-` without a proxy (`is_secure: auto`).
   */
  tls?: SecureContextOptions;
}

export interface Listening {
  port: number;
  url: string;
  server: Server;
}

const SIMPLE_SETTINGS = ['port', 'host', 'log', 'max_body_size', 'show_errors', 'keywords', 'access_log'] as const;
type SimpleSetting = (typeof SIMPLE_SETTINGS)[number];

/** The views and the public folder of an app (built by createApp from the settings). */
export interface SiteParts {
  views?: Views;
  publicFiles?: PublicFiles | undefined;
}

export class App {
  #settings: Settings;
  #log: Log;
  readonly #sessions: SessionFactory;
  readonly router = new Router<Handler>();
  readonly hooks = new Hooks();
  #prefix = '';
  #server: Server | undefined;
  #closing = false;
  readonly #views: Views | undefined;
  readonly #pipeline: Pipeline;
  /** What each request's Context gets; rebuilt when a setting changes. */
  #services: RequestServices;

  /** Use createApp(). `sessions` is owned by the app from now on (closed by close()). */
  constructor(settings: Settings, sessions: SessionFactory, site: SiteParts = {}) {
    this.#settings = settings;
    this.#log = createLog(settings.log);
    this.#sessions = sessions;
    this.#views = site.views;
    this.#pipeline = new Pipeline({
      router: this.router,
      hooks: this.hooks,
      log: () => this.#log,
      closing: () => this.#closing,
      publicFiles: site.publicFiles,
      csrf: sessions.policy.csrf,
      deviceBinding: sessions.policy.dbsc ? new DeviceBinding(sessions.policy, () => this.#log) : undefined,
      reauthRedirect: sessions.policy.reauth_redirect,
    });
    this.#services = this.#servicesNow();
  }

  #servicesNow(): RequestServices {
    const { hooks } = this;
    const log = this.#log;
    return {
      settings: this.#settings,
      sessions: this.#sessions,
      log,
      views: this.#views,
      // Asked when a request first uses its session: hooks may be added after the app is built.
      sessionEvents: ctx => (hooks.hasSessionHooks ? (event, id, previousId) => hooks.runSessionHooks(event, ctx, id, previousId, log) : undefined),
    };
  }

  get settings(): Settings {
    return this.#settings;
  }

  /** The session factory (its engine is `app.sessions.engine`). */
  get sessions(): SessionFactory {
    return this.#sessions;
  }

  /** Logs one line through the app's logger, filtered by the `log` setting. */
  log(level: LogEvent, message: string): void {
    this.#log(level, message);
  }

  readonly get: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('GET', pattern, rest);
  readonly post: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('POST', pattern, rest);
  readonly put: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('PUT', pattern, rest);
  readonly patch: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('PATCH', pattern, rest);
  readonly del: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('DELETE', pattern, rest);
  readonly options: RouteMethod<this> = (pattern: Pattern, ...rest: AnyRouteArgs) => this.#add('OPTIONS', pattern, rest);

  /** A route for every method (`any('/x', h)`) or for a list (`any(['get', 'post'], '/x', h)`). */
  any<P extends Pattern>(pattern: P, handler: Handler<RouteParams<P>>): this;
  any<P extends Pattern, O extends RouteOptions>(pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): this;
  any<P extends Pattern>(methods: readonly string[], pattern: P, handler: Handler<RouteParams<P>>): this;
  any<P extends Pattern, O extends RouteOptions>(methods: readonly string[], pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): this;
  any(...args: [Pattern, ...AnyRouteArgs] | [readonly string[], Pattern, ...AnyRouteArgs]): this {
    if (!Array.isArray(args[0])) {
      const [pattern, ...rest] = args as [Pattern, ...AnyRouteArgs];
      return this.#add('*', pattern, rest);
    }
    const [methods, pattern, ...rest] = args as [readonly string[], Pattern, ...AnyRouteArgs];
    return this.#add(methods.map(m => (m.toLowerCase() === 'del' ? 'DELETE' : m.toUpperCase())), pattern, rest);
  }

  /**
   * A route for `methods` (`'GET'`, a list, or `'*'`); the verb methods above are this. Options
   * may come before the handler: `route('POST', '/api', { csrf: false }, handler)`.
   */
  route<P extends Pattern>(methods: string | readonly string[], pattern: P, handler: Handler<RouteParams<P>>): this;
  route<P extends Pattern, O extends RouteOptions>(methods: string | readonly string[], pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): this;
  route(methods: string | readonly string[], pattern: Pattern, ...rest: AnyRouteArgs): this {
    return this.#add(methods, pattern, rest);
  }

  #add(methods: string | readonly string[], pattern: Pattern, rest: AnyRouteArgs): this {
    const handler = rest.length === 1 ? rest[0] : rest[1];
    if (typeof handler !== 'function') throw new TypeError(`The route ${String(pattern)} needs a handler function`);
    const options = rest.length === 1 ? NO_ROUTE_OPTIONS : checkRouteOptions(pattern, rest[0], this.#sessions.policy.dbsc);
    if (typeof pattern !== 'string' && this.#prefix !== '') {
      // Splicing a prefix into a user's RegExp would change what it means; say so instead.
      throw new TypeError(`The RegExp route ${String(pattern)} cannot be inside prefix('${this.#prefix}'): write the prefix into the RegExp and register it outside`);
    }
    if (typeof pattern === 'string' && this.#prefix !== '') {
      // As in Dancer2, Express and Fastify, '/' inside prefix('/admin') answers '/admin' too.
      if (pattern === '/') this.router.add(methods, this.#prefix, handler, options);
      this.router.add(methods, this.#prefix + pattern, handler, options);
    } else {
      this.router.add(methods, pattern, handler, options);
    }
    return this;
  }

  /** Routes added inside `define` get `path` in front: `prefix('/admin', () => get('/', h))`. */
  prefix(path: string, define: () => void): this {
    const outer = this.#prefix;
    this.#prefix = outer + path.replace(/\/$/, '');
    try {
      define();
    } finally {
      this.#prefix = outer;
    }
    return this;
  }

  /** `hook('before', fn)`, `hook('after', fn)`, `hook('before_error', (ctx, error) => ...)`, ... */
  hook(name: 'before' | 'after' | 'before_request' | 'after_request', hook: Hook): this;
  hook(name: 'before_error' | 'on_route_exception', hook: ErrorHook): this;
  hook(name: SessionHookName, hook: SessionHook): this;
  hook(name: string, hook: Hook | ErrorHook | SessionHook): this;
  hook(name: string, hook: Hook | ErrorHook | SessionHook): this {
    this.hooks.add(name, hook);
    return this;
  }
  before(hook: Hook): this { return this.hook('before', hook); }
  after(hook: Hook): this { return this.hook('after', hook); }

  /**
   * Changes one top-level setting from code, checked as config.yml would be:
   * `setting('max_body_size', 4096)` (Dancer2's `set`; named `setting` here so that `set` only
   * ever means a session key). The session engine is chosen in config.yml or createApp().
   */
  setting(name: SimpleSetting, value: unknown): this {
    if (!SIMPLE_SETTINGS.includes(name)) {
      throw new TypeError(`setting("${String(name)}", value): only ${SIMPLE_SETTINGS.join(', ')} can be changed from code; choose the session engine in config.yml or createApp()`);
    }
    const checked = readSettings({ environment: this.#settings.environment, [name]: value }, `setting("${name}")`);
    this.#settings = { ...this.#settings, [name]: checked[name] };
    if (name === 'log') this.#log = createLog(this.#settings.log);
    this.#services = this.#servicesNow();
    return this;
  }

  /** Handles one request: the node:http request listener (`createServer(app.handle)`). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = new Context(req, res, this.#services);
    if (this.#settings.access_log) logAccessWhenDone(ctx, this.#log);
    // Traced only while someone subscribes (base/tracing.ts): else this one check.
    if (channels.request.hasSubscribers) return traceRequest(ctx, () => this.#run(ctx));
    if (this.#settings.keywords) currentContext.run(ctx, this.#pipeline.run, ctx);
    else this.#pipeline.run(ctx);
  };

  /** The request's pipeline, inside the keywords' AsyncLocalStorage unless `keywords: false`. */
  #run(ctx: Context): void {
    if (this.#settings.keywords) currentContext.run(ctx, this.#pipeline.run, ctx);
    else this.#pipeline.run(ctx);
  }

  /**
   * Starts serving. Defaults to the `port` and `host` settings; port 0 picks a free port.
   * Timeouts keep slow or idle clients from holding sockets for ever. keepAliveTimeout is longer
   * than the usual load balancer idle timeout (60 s), as in Fastify: a balancer reusing a socket
   * Node has just closed answers 502. `options` overrides them (tests use short ones). The
   * server also answers client errors (client-errors.ts) and caps pipelining (connection-limits.ts).
   * With `options.tls` it serves HTTPS (most apps leave TLS to a proxy: `trust_proxy`).
   */
  async listen(port = this.#settings.port, host = this.#settings.host, options: ListenOptions = {}): Promise<Listening> {
    if (this.#server) throw new Error('This app is already listening; call close() first');
    const { tls, ...timeouts } = options;
    const serverOptions = { requestTimeout: 30_000, headersTimeout: 15_000, keepAliveTimeout: 72_000, ...timeouts };
    const handler = limitPipelining(this.handle);
    // An https.Server is a tls.Server, not an http.Server, but serves requests the same way.
    const server = (tls === undefined ? createServer(serverOptions, handler) : createTlsServer({ ...serverOptions, ...tls }, handler)) as Server;
    // Unparsable (400, 431), too slow (408) and CONNECT (405) requests: see client-errors.ts.
    answerClientErrors(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const actual = (server.address() as AddressInfo).port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    return { port: actual, url: `${tls === undefined ? 'http' : 'https'}://${shownHost}:${actual}`, server };
  }

  /**
   * Stops accepting connections, lets requests in flight finish (closing idle keep-alive
   * sockets), then closes the session engine.
   */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      this.#closing = true;
      const closed = new Promise<void>(resolve => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed.finally(() => (this.#closing = false));
    }
    await this.#sessions.close();
  }
}

const ROUTE_OPTION_NAMES = ['csrf', 'deviceBound', 'recentAuth', ...INPUT_PARTS];

/** The options given to a route, checked once when it is added: a TypeError names a bad one. */
function checkRouteOptions(pattern: Pattern, options: unknown, dbsc: boolean): RouteOptions {
  const where = `The route ${String(pattern)}`;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${where}: the options before the handler must be an object such as { csrf: false }`);
  for (const key of Object.keys(options)) {
    if (!ROUTE_OPTION_NAMES.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (known: ${ROUTE_OPTION_NAMES.join(', ')})`);
  }
  const { csrf, deviceBound, recentAuth } = options as { csrf?: unknown; deviceBound?: unknown; recentAuth?: unknown };
  if (csrf !== undefined && typeof csrf !== 'boolean') throw new TypeError(`${where}: options.csrf must be true or false, got ${JSON.stringify(csrf)}`);
  if (deviceBound !== undefined && typeof deviceBound !== 'boolean') throw new TypeError(`${where}: options.deviceBound must be true or false, got ${JSON.stringify(deviceBound)}`);
  // Without the setting no session is ever bound, so the option would protect nothing: said now.
  if (deviceBound === true && !dbsc) throw new TypeError(`${where}: { deviceBound: true } needs the session setting dbsc: true`);
  if (recentAuth !== undefined && (typeof recentAuth !== 'number' || !Number.isInteger(recentAuth) || recentAuth <= 0)) {
    throw new TypeError(`${where}: options.recentAuth must be a positive whole number of seconds (the login's greatest age), got ${JSON.stringify(recentAuth)}`);
  }
  const schemas = checkInputSchemas(where, options);
  const { params, query, body } = schemas ?? {};
  return Object.freeze({
    ...(csrf === undefined ? {} : { csrf }),
    ...(deviceBound === undefined ? {} : { deviceBound }),
    ...(recentAuth === undefined ? {} : { recentAuth }),
    ...(params && { params }), ...(query && { query }), ...(body && { body }),
  });
}
