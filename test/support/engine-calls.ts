/**
 * Session engines for tests that wrap a real engine instead of patching it: CountingEngine
 * records the calls an app makes (the inner engine still does the work), so tests can assert
 * "a read-only request never flushes" or "a malformed id never reaches retrieve"; FailingEngine
 * makes chosen operations fail as a store that cannot answer would.
 */
import type { SessionChange, SessionEngine, SessionRecord } from '../../src/session/engine.ts';
import { MemoryEngine } from '../../src/session/engines/memory/memory.ts';

export type EngineCalls = Record<'retrieve' | 'flush' | 'destroy' | 'changeId', string[]>;

/** A Memory engine as config.yml's defaults would build it. */
export const memoryEngine = (): MemoryEngine => new MemoryEngine({ max_sessions: 100_000 }, 86400);

/** Forwards every call to `inner`; subclasses override what they change. */
export class WrappedEngine implements SessionEngine {
  readonly inner: SessionEngine;

  constructor(inner: SessionEngine = memoryEngine()) {
    this.inner = inner;
  }

  retrieve(id: string): Promise<SessionRecord | undefined> { return this.inner.retrieve(id); }
  flush(id: string, change: SessionChange, ttlSeconds?: number): Promise<void> { return this.inner.flush(id, change, ttlSeconds); }
  destroy(id: string): Promise<void> { return this.inner.destroy(id); }
  sessions(): AsyncIterable<string> { return this.inner.sessions(); }
  changeId(oldId: string, newId: string): Promise<void> {
    if (!this.inner.changeId) throw new TypeError('the inner engine has no changeId');
    return this.inner.changeId(oldId, newId);
  }
  close(): Promise<void> { return this.inner.close?.() ?? Promise.resolve(); }
}

/** Records the id of every call, by operation. */
export class CountingEngine extends WrappedEngine {
  readonly calls: EngineCalls = { retrieve: [], flush: [], destroy: [], changeId: [] };

  override retrieve(id: string) { this.calls.retrieve.push(id); return super.retrieve(id); }
  override flush(id: string, change: SessionChange, ttlSeconds?: number) { this.calls.flush.push(id); return super.flush(id, change, ttlSeconds); }
  override destroy(id: string) { this.calls.destroy.push(id); return super.destroy(id); }
  override changeId(oldId: string, newId: string) { this.calls.changeId.push(oldId); return super.changeId(oldId, newId); }
}

/** Every flush rejects with `error`, as a store that cannot write would. */
export class FailingFlushEngine extends WrappedEngine {
  readonly #error: Error;

  constructor(error: Error, inner?: SessionEngine) {
    super(inner);
    this.#error = error;
  }

  override flush(): Promise<void> { return Promise.reject(this.#error); }
}
