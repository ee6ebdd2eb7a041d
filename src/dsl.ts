/**
 * The Dancer-style keywords. Route and hook keywords register on the default app; request
 * keywords find the current request through one AsyncLocalStorage and forward to its Context,
 * so `get('/', () => session('user'))` works as written. Called outside a request they throw an
 * OutsideRequestError naming the keyword.
 */
import type { App, Handler, Listening, Pattern, RouteMethod, RouteOptions } from './server/app.ts';
import type { RouteParams } from './request/route-params.ts';
import type { ValidInput } from './request/validation/input.ts';
import { loadConfig, type Settings } from './config/config.ts';
import { current, currentContext, type CookieOptions } from './request/context.ts';
import { format } from 'node:util';
import type { ErrorHook, Hook, SessionHook, SessionHookName } from './request/hooks.ts';
import type { LogEvent } from './base/logger.ts';
import type { FileBody, SendFileOptions } from './response/send-file.ts';
import type { FlashKey, FlashValue, PushItem, SessionKey, SessionValue } from './session/session-data.ts';
import type { Session } from './session/session.ts';
import type { Upload } from './request/upload.ts';
import type { UserSession } from './session/user-sessions.ts';
import type { TemplateOptions } from './views/views.ts';
import { createApp } from './create-app.ts';
import { publicSettings, type PublicSettings } from './config/secret-settings.ts';
import { exitOnStartupError, serveUntilSignalled } from './process/startup.ts';

let defaultApp: App | undefined;

/**
 * The app the keywords register on, built once from config.yml (DANCER_CONFDIR,
 * DANCER_ENVIRONMENT) on first use, as Dancer2 reads its config when the app is declared. A bad
 * config is one line on stderr and exit 1.
 */
export function app(): App {
  return (defaultApp ??= defaultAppFromConfig());
}

function defaultAppFromConfig(): App {
  const notices: string[] = [];
  let built: App;
  try {
    built = createApp(loadConfig({ notice: message => notices.push(message) }));
  } catch (error) {
    exitOnStartupError(error);
  }
  for (const notice of notices) built.log('info', notice);
  return built;
}

/** A route keyword of the default app for `method` (the App's, without the chaining). */
function routeKeyword(method: 'get' | 'post' | 'put' | 'patch' | 'del' | 'options'): RouteMethod<void> {
  return ((...args: unknown[]) => {
    const target = app();
    (target[method] as (...all: unknown[]) => App)(...args);
  }) as RouteMethod<void>;
}

export const get = routeKeyword('get');
export const post = routeKeyword('post');
export const put = routeKeyword('put');
export const patch = routeKeyword('patch');
export const del = routeKeyword('del');
export const options = routeKeyword('options');

/** A route for every method, or for a list: `any(['get', 'post'], '/x', h)`. */
export function any<P extends Pattern>(pattern: P, handler: Handler<RouteParams<P>>): void;
export function any<P extends Pattern, O extends RouteOptions>(pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): void;
export function any<P extends Pattern>(methods: readonly string[], pattern: P, handler: Handler<RouteParams<P>>): void;
export function any<P extends Pattern, O extends RouteOptions>(methods: readonly string[], pattern: P, options: O, handler: Handler<RouteParams<P>, ValidInput<O>>): void;
export function any(...args: unknown[]): void {
  const target = app();
  (target.any as (...all: unknown[]) => App).apply(target, args);
}

export const prefix = (path: string, define: () => void) => void app().prefix(path, define);
/** Registers a hook on the default app; see App.hook for the names. */
export function hook(name: 'before' | 'after' | 'before_request' | 'after_request', fn: Hook): void;
export function hook(name: 'before_error' | 'on_route_exception', fn: ErrorHook): void;
export function hook(name: SessionHookName, fn: SessionHook): void;
export function hook(name: string, fn: Hook | ErrorHook | SessionHook): void;
export function hook(name: string, fn: Hook | ErrorHook | SessionHook): void {
  app().hook(name, fn);
}
export const before = (fn: Hook) => void app().before(fn);
export const after = (fn: Hook) => void app().after(fn);
/**
 * `setting(name)` reads a setting: of the current request's app inside a request, else of the
 * default app; as config.yml writes it, with secrets hidden (secret-settings.ts): `setting('session')`
 * is the engine's name. `setting(name, value)` changes one on the default app (Dancer2's `set`).
 */
export function setting<K extends keyof PublicSettings>(name: K): PublicSettings[K];
export function setting(name: Parameters<App['setting']>[0], value: unknown): void;
export function setting(name: keyof PublicSettings, ...value: [unknown?]): unknown {
  if (value.length === 0) return config()[name];
  app().setting(name as Parameters<App['setting']>[0], value[0]);
  return undefined;
}
/** Every setting, as `setting(name)` shows each. */
export const config = (): Readonly<PublicSettings> => publicSettings(settingsInScope());
const settingsInScope = (): Settings => currentContext.getStore()?.settings ?? app().settings;

/**
 * Serves the default app (from config.yml), prints `Quickstep (<environment>, <engine>) is dancing
 * on <url>` once, and on SIGINT / SIGTERM stops accepting, lets requests in flight finish and
 * closes the engines. A busy port or a bad config is one line on stderr and exit 1. With
 * `workers` above 1 (workers.ts) this process becomes the primary: it forks the workers, which
 * serve (there dance() resolves as here), and its own dance() never resolves.
 */
export const dance = (): Promise<Listening> => serveUntilSignalled(app());

// Request keywords: each forwards to the current Context.

export function session(): Promise<Session>;
export function session<K extends SessionKey>(key: K): Promise<SessionValue<K> | undefined>;
export function session<K extends SessionKey>(key: K, value: SessionValue<K> | undefined): Promise<void>;
export function session(...args: [string?, unknown?]): Promise<unknown> {
  const ctx = current('session');
  return args.length === 0 ? ctx.session() : args.length === 1 ? ctx.session(args[0]!) : ctx.session(args[0]!, args[1]);
}
export const destroySession = (): Promise<void> => current('destroySession').destroySession();
/** Adds `by` (default 1) to the number at `key`; concurrent increments add up. */
export const increment = (key: SessionKey, by?: number): Promise<number> => current('increment').increment(key, by);
/** Appends `value` to the array at `key`, keeping the last `max`; concurrent pushes all survive. */
export const push = <K extends SessionKey>(key: K, value: PushItem<K>, options?: { max?: number }): Promise<PushItem<K>[]> =>
  current('push').push(key, value, options);
/** `flash(key, value)` keeps a message for the next request that reads it; `flash(key)` reads and removes it. */
export function flash<K extends FlashKey>(key: K): Promise<FlashValue<K> | undefined>;
export function flash<K extends FlashKey>(key: K, value: FlashValue<K>): Promise<void>;
export function flash(...args: [string, unknown?]): Promise<unknown> {
  const ctx = current('flash');
  return args.length === 1 ? ctx.flash(args[0]) : ctx.flash(args[0], args[1]);
}
export const changeSessionId = (): Promise<string> => current('changeSessionId').changeSessionId();
/** Logs `userId` in: records the session's owner and changes its id (see Context.login). */
export const login = (userId: string): Promise<string> => current('login').login(userId);
/** destroySession(), which also takes the session out of its owner's list. */
export const logout = (): Promise<void> => current('logout').logout();
/** The live sessions (devices) of `userId`, this request's marked `current`. */
export const userSessions = (userId: string): Promise<UserSession[]> => current('userSessions').userSessions(userId);
/**
 * Ends the sessions of `userId` but `except` ("sign out everywhere else"), or `only` one by its
 * handle ("sign out this device"); with `credentialsChanged: true` all but this one, which gets a
 * new id (see Context.destroyUserSessions). How many it ended.
 */
export const destroyUserSessions = (userId: string, options?: { except?: string | undefined; only?: string | undefined; credentialsChanged?: boolean }): Promise<number> =>
  current('destroyUserSessions').destroyUserSessions(userId, options);
/** The CSRF token of the current session (made, with the session, on first use); see Context.csrfToken. */
export const csrfToken = (): Promise<string> => current('csrfToken').csrfToken();

export const request = () => current('request');
export const body = <T = any>(): Promise<T> => current('body').body<T>();
/** One parameter: route params first, then the body (form or JSON), then the query (Dancer2's `param`). */
export const param = (name: string): string | string[] | undefined => current('param').param(name);
/** Every parameter merged: query, then body over it, then route params over both. */
export const params = (): Record<string, unknown> => current('params').parameters();
export const routeParameters = (): Record<string, string | undefined> => current('routeParameters').routeParameters();
export const queryParameters = () => current('queryParameters').queryParameters();
export const bodyParameters = (): Record<string, unknown> => current('bodyParameters').bodyParameters();
/** The per-request stash (Dancer2's `var`/`vars`): `vars()`, `vars(name)`, `vars(name, value)`. */
export function vars(): Record<string, unknown>;
export function vars(name: string): unknown;
export function vars(name: string, value: unknown): void;
export function vars(...args: [string?, unknown?]): unknown {
  const ctx = current('vars');
  return args.length === 0 ? ctx.vars() : args.length === 1 ? ctx.vars(args[0]!) : ctx.vars(args[0]!, args[1]);
}
export const splat = (): string[] => current('splat').splat;
export const status = (code?: number): number => current('status').status(code);
export const header = (name: string, value?: string | number | string[]) => current('header').header(name, value);
export const responseHeader = (name: string, value?: string | number | string[]) => current('responseHeader').responseHeader(name, value);
export const contentType = (type?: string): string | undefined => current('contentType').contentType(type);
export const uriFor = (path: string, query?: Record<string, string | number | boolean>): string => current('uriFor').uriFor(path, query);
export const forward = (path: string, options?: { method?: string }): never => current('forward').forward(path, options);
export const cookie = (name: string, value?: string, options?: CookieOptions) => current('cookie').cookie(name, value, options);
export const redirect = (location: string, code?: number): never => current('redirect').redirect(location, code);
export const halt = (content?: unknown): never => current('halt').halt(content);
export const pass = (): never => current('pass').pass();
export const sendError = (message: string, code?: number): never => current('sendError').sendError(message, code);

// Logging keywords: through the current request's app, or the default app outside a request.

const logInScope = (level: LogEvent, parts: unknown[]): void => {
  const ctx = currentContext.getStore();
  if (ctx) ctx.log(level, ...parts);
  else app().log(level, format(...parts));
};
export const debug = (...message: unknown[]): void => logInScope('debug', message);
export const info = (...message: unknown[]): void => logInScope('info', message);
export const warning = (...message: unknown[]): void => logInScope('warning', message);
/** Logs at error level (as Dancer2's `error`, it does not throw; use sendError or HttpError for that). */
export const error = (...message: unknown[]): void => logInScope('error', message);

// Views and files.

/** Renders `views/<name>` inside the layout (see Context.template). */
export const template = (name: string, tokens?: Record<string, unknown>, options?: TemplateOptions): Promise<string> =>
  current('template').template(name, tokens, options);
/** Sends a file as the response (see Context.sendFile). */
export const sendFile = (path: string, options?: SendFileOptions): Promise<FileBody> => current('sendFile').sendFile(path, options);
/** The uploaded file(s) of a multipart field (see Context.upload). */
export const upload = (name: string): Promise<Upload | Upload[] | undefined> => current('upload').upload(name);
