/**
 * Quickstep's public API: the keywords of the default app (`get`, `session`, `dance`, ...),
 * `createApp` for tests and for several apps in one process, the errors a user catches or
 * throws, the types a user receives, and what a session engine author needs. Test helpers are in
 * `quickstep/testing`, the engine contract suite in `quickstep/engine-contract`.
 */
// The published .d.ts files use Node's types (node:http, Buffer): the directive loads @types/node
// (a dependency) for consumers whose tsconfig has "types": [], as `tsc --init` writes.
/// <reference types="node" preserve="true" />
export {
  any, after, app, before, body, bodyParameters, changeSessionId, config, contentType, cookie, dance, del,
  destroySession, forward, get, halt, header, hook, options, param, params, pass, patch, post, prefix, put,
  queryParameters, redirect, request, responseHeader, routeParameters, sendError, session, setting, splat,
  status, uriFor, vars, debug, info, warning, error, increment, push, flash, template, sendFile, upload, csrfToken,
  login, logout, userSessions, destroyUserSessions,
} from './dsl.ts';
export type { UserSession } from './session/user-sessions.ts';
export type { FileBody, SendFileOptions } from './response/send-file.ts';
export type { Upload } from './request/upload.ts';
export { TemplateError, type TemplateOptions } from './views/views.ts';
// For template engine authors.
export { registerTemplateEngine } from './views/engine-registry.ts';
export type { TemplateEngine, TemplateEngineContext, TemplateEngineDefinition, TemplateSettings } from './views/engine.ts';
export { createApp, type AppParts } from './create-app.ts';
export { escapeHtml } from './base/escape-html.ts';
export type { App, Handler, Listening, Pattern, RouteArgs, RouteOptions } from './server/app.ts';
export type { Context, CookieOptions } from './request/context.ts';
export type { UrlencodedValues } from './request/urlencoded.ts';
export { loadConfig, type LoadOptions, type LogLevel, type Settings, type SettingsInput } from './config/config.ts';
export type { LogEvent } from './base/logger.ts';
export type { PublicSettings } from './config/secret-settings.ts';
export { ConfigError, HttpError, OutsideRequestError, SessionCookieTooLargeError, SessionStoreError, SessionTooLargeError } from './base/errors.ts';
export type { ErrorHook, Hook, HookName, SessionHook, SessionHookName } from './request/hooks.ts';
export type { AnyParams, RouteParams } from './request/route-params.ts';
export type { FlashData, FlashKey, FlashValue, PushItem, SessionData, SessionKey, SessionValue } from './session/session-data.ts';
export type { Session } from './session/session.ts';
export type { SessionFactory } from './session/factory.ts';
export type { SessionPolicy, SessionSettings } from './session/settings.ts';
// For session engine authors.
export { registerSessionEngine } from './session/engine-registry.ts';
export type { AtomicTake, EngineContext, IdChange, OwnedSession, OwnerChange, OwnerIndex, PushedItems, SealedEngine, SealedSession, SessionChange, SessionEngine, SessionEngineDefinition, SessionRecord, SessionSealer, SessionStore, SessionValues, StoredEngine, UnreadExpiry, UnreadFlush, UnreadFlushed } from './session/engine.ts';
export { ownerOf } from './session/session-meta.ts';
export { applyChange } from './session/apply-change.ts';
export { MemoryEngine } from './session/engines/memory/memory.ts';
export { CookieEngine } from './session/engines/cookie/cookie.ts';
export * as optionSpecs from './config/schema.ts';
