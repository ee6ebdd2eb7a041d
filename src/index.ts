/**
 * Quickstep's public API. Keywords for the default app (`get`, `session`, `dance`, ...), and
 * `createApp` for tests and for several apps in one process. Test helpers are in
 * `quickstep/testing`.
 */
export {
  any, after, app, before, body, changeSessionId, config, cookie, dance, del, destroySession, get, halt,
  header, hook, options, params, pass, patch, post, prefix, put, redirect, request, sendError, session, set,
  setting, splat, status,
} from './dsl.ts';
export { App, createApp, type Handler, type Listening } from './app.ts';
export { Context, type CookieOptions } from './context.ts';
export { loadConfig, readSettings, type LogLevel, type Settings, type SettingsInput } from './config.ts';
export { ConfigError, HttpError, OutsideRequestError, SessionStoreError, SessionTooLargeError } from './errors.ts';
export type { Hook, HookName } from './hooks.ts';
export { Session, type SessionData, type SessionKey, type SessionValue } from './session/session.ts';
export {
  registerSessionEngine, type EngineContext, type SessionChange, type SessionEngine, type SessionEngineDefinition,
  type SessionRecord, type SessionValues,
} from './session/engine.ts';
export { applyChange } from './session/apply-change.ts';
export { MemoryEngine } from './session/engines/memory.ts';
export * as optionSpecs from './schema.ts';
