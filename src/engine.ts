/**
 * `quickstep/engine`: the API of engine authors, apart from the app author's `quickstep`.
 * - A session engine: the contract it implements (`SessionEngine` and the types it reads and
 *   returns), `registerSessionEngine`, the option builders of its config block (`optionSpecs`),
 *   `applyChange` and `ownerOf` for engines that hold data themselves, the errors it throws, the
 *   built-in `MemoryEngine` and `CookieEngine` to wrap or learn from, and the contract suite
 *   every engine passes (`engineContract`).
 * - A template engine: `TemplateEngine`, its definition and `registerTemplateEngine`.
 * - The factory and policy an engine sits under, and `createApp`'s parts, for tests that hand an
 *   app a wrapped engine.
 */
// The published .d.ts files use Node's types: the directive loads @types/node (a dependency) for
// consumers whose tsconfig has "types": [], as `tsc --init` writes.
/// <reference types="node" preserve="true" />
export type {
  AtomicTake, EngineContext, IdChange, IdChangeAtFlush, IdRenewal, OwnedSession, OwnerChange, OwnerIndex, PushedItems, SealedEngine, SealedSession, SessionChange,
  SessionEngine, SessionEngineDefinition, RenewalGrace, SessionRecord, SessionSealer, SessionStore, SessionValues, StoredEngine, UnreadExpiry,
  UnreadFlush, UnreadFlushed,
} from './session/engine.ts';
export type { ListedSeal, RevocationStore, SealCheck } from './session/revocation/revocation-store.ts';
export { registerSessionEngine } from './session/engine-registry.ts';
export * as optionSpecs from './base/schema.ts';
export { applyChange } from './session/apply-change.ts';
export { ownerOf } from './session/session-meta.ts';
export { SessionCookieTooLargeError, SessionStoreError, SessionTooLargeError } from './base/errors.ts';
export { MemoryEngine } from './session/engines/memory/memory.ts';
export { CookieEngine } from './session/engines/cookie/cookie.ts';
export type { SessionFactory } from './session/factory.ts';
export type { SessionPolicy, SessionSettings } from './session/settings.ts';
export type { AppParts } from './create-app.ts';
export { engineContract, uvuTest, type ContractOptions, type ContractSubject, type EngineCapabilities, type TestFunction } from './testing/engine-contract.ts';
export { registerTemplateEngine } from './views/engine-registry.ts';
export type { TemplateEngine, TemplateEngineContext, TemplateEngineDefinition, TemplateSettings } from './views/engine.ts';
export { TemplateError } from './views/views.ts';
