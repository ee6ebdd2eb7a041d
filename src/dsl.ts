/**
 * The Dancer-style keywords. Route and hook keywords register on the default app; request
 * keywords find the current request through one AsyncLocalStorage and forward to its Context,
 * so `get('/', () => session('user'))` works as written. Called outside a request they throw an
 * OutsideRequestError naming the keyword.
 */
import type { App, Handler, Listening } from './app.ts';
import { loadConfig, type Settings } from './config.ts';
import { current, currentContext, type CookieOptions } from './context.ts';
import type { Hook } from './hooks.ts';
import type { FileBody, SendFileOptions } from './send-file.ts';
import type { Session, SessionKey, SessionValue } from './session/session.ts';
import type { Upload } from './upload.ts';
import type { TemplateOptions } from './views/views.ts';
import { createApp } from './create-app.ts';
import { exitOnStartupError, serveUntilSignalled } from './startup.ts';

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

type Pattern = string | RegExp;

export const get = (pattern: Pattern, handler: Handler) => void app().get(pattern, handler);
export const post = (pattern: Pattern, handler: Handler) => void app().post(pattern, handler);
export const put = (pattern: Pattern, handler: Handler) => void app().put(pattern, handler);
export const patch = (pattern: Pattern, handler: Handler) => void app().patch(pattern, handler);
export const del = (pattern: Pattern, handler: Handler) => void app().del(pattern, handler);
export const options = (pattern: Pattern, handler: Handler) => void app().options(pattern, handler);

/** A route for every method, or for a list: `any(['get', 'post'], '/x', h)`. */
export function any(pattern: Pattern, handler: Handler): void;
export function any(methods: readonly string[], pattern: Pattern, handler: Handler): void;
export function any(...args: [Pattern, Handler] | [readonly string[], Pattern, Handler]): void {
  if (args.length === 2) app().any(args[0], args[1]);
  else app().any(args[0], args[1], args[2]);
}

export const prefix = (path: string, define: () => void) => void app().prefix(path, define);
export const hook = (name: string, fn: Hook) => void app().hook(name, fn);
export const before = (fn: Hook) => void app().before(fn);
export const after = (fn: Hook) => void app().after(fn);
/**
 * `setting(name)` reads a setting: of the current request's app inside a request, else of the
 * default app. `setting(name, value)` changes one on the default app (Dancer2's `set`).
 */
export function setting<K extends keyof Settings>(name: K): Settings[K];
export function setting(name: Parameters<App['setting']>[0], value: unknown): void;
export function setting(name: keyof Settings, ...value: [unknown?]): unknown {
  if (value.length === 0) return settingsInScope()[name];
  app().setting(name as Parameters<App['setting']>[0], value[0]);
  return undefined;
}
export const config = (): Settings => settingsInScope();
const settingsInScope = (): Settings => currentContext.getStore()?.settings ?? app().settings;

/**
 * Serves the default app (from config.yml), prints `Quickstep (<environment>, <engine>) is dancing
 * on <url>` once, and on SIGINT / SIGTERM stops accepting, lets requests in flight finish and
 * closes the engines. A busy port or a bad config is one line on stderr and exit 1.
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
export const changeSessionId = (): Promise<string> => current('changeSessionId').changeSessionId();

export const request = () => current('request');
export const body = <T = any>(): Promise<T> => current('body').body<T>();
export function params(): Record<string, string | string[]>;
export function params(name: string): string | string[] | undefined;
export function params(name?: string) {
  const ctx = current('params');
  return name === undefined ? ctx.params() : ctx.params(name);
}
export const splat = (): string[] => current('splat').splat;
export const status = (code?: number): number => current('status').status(code);
export const header = (name: string, value?: string | number | string[]) => current('header').header(name, value);
export const cookie = (name: string, value?: string, options?: CookieOptions) => current('cookie').cookie(name, value, options);
export const redirect = (location: string, code?: number): never => current('redirect').redirect(location, code);
export const halt = (content?: unknown): never => current('halt').halt(content);
export const pass = (): never => current('pass').pass();
export const sendError = (message: string, code?: number): never => current('sendError').sendError(message, code);

// Views and files.

/** Renders `views/<name>` inside the layout (see Context.template). */
export const template = (name: string, tokens?: Record<string, unknown>, options?: TemplateOptions): Promise<string> =>
  current('template').template(name, tokens, options);
/** Sends a file as the response (see Context.sendFile). */
export const sendFile = (path: string, options?: SendFileOptions): Promise<FileBody> => current('sendFile').sendFile(path, options);
/** The uploaded file(s) of a multipart field (see Context.upload). */
export const upload = (name: string): Promise<Upload | Upload[] | undefined> => current('upload').upload(name);
/** The request's stash (`ctx.vars`), also the templates' `vars` token. */
export const vars = (): Record<string, unknown> => current('vars').vars;
