/**
 * Session engines for tests that wrap a real engine instead of patching it: CountingEngine
 * records the calls an app makes (the inner engine still does the work), so tests can assert
 * "a read-only request never flushes" or "a malformed id never reaches retrieve"; FailingEngine
 * makes chosen operations fail as a store that cannot answer would.
 *
 * Each one is a whole StoredEngine (engine.ts) by itself: it is its own store, and offers the
 * inner engine's changeId capability through `changeId`, so it goes to createApp as it is.
 */
import type { App } from '../../src/server/app.ts';
import type { IdChange, SessionChange, SessionStore, SessionRecord, StoredEngine } from '../../src/session/engine.ts';
import { MemoryEngine } from '../../src/session/engines/memory/memory.ts';

export type EngineCalls = Record<'retrieve' | 'flush' | 'destroy' | 'changeId', string[]>;

/** A Memory engine as config.yml's defaults would build it. */
export const memoryEngine = (): MemoryEngine => new MemoryEngine({ max_sessions: 100_000 }, 86400);

/** What a wrapper wraps: a store that can change ids, like Memory. */
type Inner = SessionStore & IdChange & { close?(): Promise<void> };

/** Forwards every call to `inner`; subclasses override what they change. */
export class WrappedEngine implements StoredEngine, SessionStore {
  readonly inner: Inner;
  readonly store: SessionStore = this;
  /** The changeId capability, through `renamed` (which subclasses may override). */
  readonly changeId: IdChange = { changeId: (oldId, newId) => this.renamed(oldId, newId) };

  constructor(inner: Inner = memoryEngine()) {
    this.inner = inner;
  }

  retrieve(id: string): Promise<SessionRecord | undefined> { return this.inner.retrieve(id); }
  flush(id: string, change: SessionChange, ttlSeconds?: number): Promise<void> { return this.inner.flush(id, change, ttlSeconds); }
  destroy(id: string): Promise<void> { return this.inner.destroy(id); }
  sessions(): AsyncIterable<string> { return this.inner.sessions(); }
  renamed(oldId: string, newId: string): Promise<void> { return this.inner.changeId(oldId, newId); }
  close(): Promise<void> { return this.inner.close?.() ?? Promise.resolve(); }
}

/** Records the id of every call, by operation. */
export class CountingEngine extends WrappedEngine {
  readonly calls: EngineCalls = { retrieve: [], flush: [], destroy: [], changeId: [] };

  override retrieve(id: string) { this.calls.retrieve.push(id); return super.retrieve(id); }
  override flush(id: string, change: SessionChange, ttlSeconds?: number) { this.calls.flush.push(id); return super.flush(id, change, ttlSeconds); }
  override destroy(id: string) { this.calls.destroy.push(id); return super.destroy(id); }
  override renamed(oldId: string, newId: string) { this.calls.changeId.push(oldId); return super.renamed(oldId, newId); }
}

/** Every flush rejects with `error`, as a store that cannot write would. */
export class FailingFlushEngine extends WrappedEngine {
  readonly #error: Error;

  constructor(error: Error, inner?: Inner) {
    super(inner);
    this.#error = error;
  }

  override flush(): Promise<void> { return Promise.reject(this.#error); }
}

/** The store of `app`'s session engine, for tests that look at what is stored; a TypeError for a sealer. */
export function storeOf(app: App): SessionStore {
  const engine = app.sessions?.engine;
  if (engine === undefined || !('store' in engine)) throw new TypeError('the app\'s session engine has no store (a sealer)');
  return engine.store;
}
