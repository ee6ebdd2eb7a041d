/**
 * `quickstep`: what an app author uses. The keywords of the default app (`get`, `session`,
 * `dance`, ...), `createApp` for tests and for several apps in one process, `loadConfig`,
 * `escapeHtml`, the errors an app throws or catches, and the types it names: `App`, `Context`,
 * `Session` and the `SessionData` / `FlashData` interfaces it merges its keys into.
 *
 * Fewer than 70 names (test/index.test.ts counts them), so that the list reads as the API.
 * The types an app seldom names are members of the type they belong to: `App.Handler`,
 * `Context.CookieOptions`, `Session.Key`, `Settings.LoadOptions`. Engine authors have their own
 * entry point, `quickstep/engine`; test helpers are in `quickstep/testing`.
 */
// The published .d.ts files use Node's types (node:http, Buffer): the directive loads @types/node
// (a dependency) for consumers whose tsconfig has "types": [], as `tsc --init` writes.
/// <reference types="node" preserve="true" />
import type { App as AppClass, Handler as AppHandler, Listening as AppListening, Pattern as AppPattern, RouteArgs as AppRouteArgs, RouteOptions as AppRouteOptions } from './server/app.ts';
import type { Context as ContextClass, CookieOptions as ContextCookieOptions, NoValidInput } from './request/context.ts';
import type { InputIssue as AppInputIssue, InvalidInputError as AppInvalidInputError, ValidInput as AppValidInput } from './request/validation/input.ts';
import type { StandardSchemaV1 } from './request/validation/standard-schema.ts';
import type { ErrorHook as AppErrorHook, Hook as AppHook, HookName as AppHookName, SessionHook as AppSessionHook, SessionHookName as AppSessionHookName } from './request/hooks.ts';
import type { AnyParams as ContextAnyParams, RouteParams as ContextRouteParams } from './request/route-params.ts';
import type { UrlencodedValues as ContextUrlencodedValues } from './request/urlencoded.ts';
import type { FileBody as ContextFileBody, SendFileOptions as ContextSendFileOptions } from './response/send-file.ts';
import type { TemplateOptions as ContextTemplateOptions } from './views/views.ts';
import type { Session as SessionClass } from './session/session.ts';
import type { FlashKey as SessionFlashKey, FlashValue as SessionFlashValue, PushItem as SessionPushItem, SessionKey } from './session/session-data.ts';
import type { LoadOptions as SettingsLoadOptions, LogLevel as SettingsLogLevel, Settings as CheckedSettings } from './config/config.ts';
import type { LogEvent as SettingsLogEvent } from './base/logger.ts';
import type { PublicSettings } from './config/secret-settings.ts';

export {
  any, after, app, before, body, bodyParameters, changeSessionId, config, contentType, cookie, dance, del,
  destroySession, forward, get, halt, header, hook, options, param, params, pass, patch, post, prefix, put,
  queryParameters, redirect, request, responseHeader, routeParameters, sendError, session, setting, splat,
  status, uriFor, vars, debug, info, warning, error, increment, push, flash, template, sendFile, upload, csrfToken,
  login, logout, userSessions, destroyUserSessions,
} from './dsl.ts';
export { createApp } from './create-app.ts';
export { loadConfig, type SettingsInput } from './config/config.ts';
export { escapeHtml } from './base/escape-html.ts';
export { ConfigError, HttpError, SessionTooLargeError } from './base/errors.ts';
export type { FlashData, SessionData, SessionValue } from './session/session-data.ts';
export type { Upload } from './request/upload.ts';
export type { UserSession } from './session/user-sessions.ts';

/** One web application: routes, hooks, settings, `listen()` / `close()` (server/app.ts). */
export interface App extends AppClass {}
/** The types of an app's routes, hooks and server. */
export declare namespace App {
  export type Handler<Params extends object = ContextAnyParams, Valid = NoValidInput> = AppHandler<Params, Valid>;
  export type RouteOptions = AppRouteOptions;
  export type RouteArgs<P extends Pattern, O extends RouteOptions = RouteOptions> = AppRouteArgs<P, O>;
  /** `ctx.valid` of a route with options `O`: each schema's output type. */
  export type ValidInput<O> = AppValidInput<O>;
  /** A Standard Schema (zod, valibot, arktype, ...), as route options take one. */
  export type StandardSchema<Input = unknown, Output = Input> = StandardSchemaV1<Input, Output>;
  /** The 400 for input a route's schemas refused (an HttpError whose `code` is `INVALID_INPUT`), with its `issues`. */
  export type InvalidInputError = AppInvalidInputError;
  /** One bad field of an InvalidInputError. */
  export type InputIssue = AppInputIssue;
  export type Pattern = AppPattern;
  export type Listening = AppListening;
  export type Hook = AppHook;
  export type ErrorHook = AppErrorHook;
  export type SessionHook = AppSessionHook;
  export type HookName = AppHookName;
  export type SessionHookName = AppSessionHookName;
}

/** One request as a handler sees it: what came in, what goes out, every keyword as a method (request/context.ts). */
export interface Context<Params extends object = ContextAnyParams, Valid = NoValidInput> extends ContextClass<Params, Valid> {}
/** The types of what a request reads and answers. */
export declare namespace Context {
  export type RouteParams<Pattern> = ContextRouteParams<Pattern>;
  export type AnyParams = ContextAnyParams;
  export type UrlencodedValues = ContextUrlencodedValues;
  export type CookieOptions = ContextCookieOptions;
  export type FileBody = ContextFileBody;
  export type SendFileOptions = ContextSendFileOptions;
  export type TemplateOptions = ContextTemplateOptions;
}

/** The session of a request: id, data and this request's changes (session/session.ts). */
export interface Session extends SessionClass {}
/** The key and value types the session keywords take from `SessionData` and `FlashData`. */
export declare namespace Session {
  export type Key = SessionKey;
  export type PushItem<K extends string> = SessionPushItem<K>;
  export type FlashKey = SessionFlashKey;
  export type FlashValue<K extends string> = SessionFlashValue<K>;
}

/** The checked settings, as `loadConfig()` returns them (config/config.ts). */
export interface Settings extends CheckedSettings {}
/** How settings are loaded, the log levels, and the settings as `config()` and templates see them. */
export declare namespace Settings {
  export type LoadOptions = SettingsLoadOptions;
  export type LogLevel = SettingsLogLevel;
  export type LogEvent = SettingsLogEvent;
  export type Public = PublicSettings;
}
