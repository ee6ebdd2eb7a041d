/**
 * The in-process session engine, and the default. Sessions live in one Map per engine as JSON
 * text, so what a request does to its objects after the flush is never stored by accident.
 *
 * The Map is kept in least-recently-used order (a touched entry is moved to the end), which gives
 * both bounds cheaply: past `max_sessions` the front entry is evicted, and since the expiry is
 * sliding, expired entries gather at the front where the sweep finds them.
 * For one process only: several app servers need a shared engine such as Redis.
 */
import { integer } from '../../schema.ts';
import { applyChange } from '../apply-change.ts';
import type { SessionChange, SessionEngine, SessionEngineDefinition, SessionRecord } from '../engine.ts';

interface Entry {
  json: string;
  expiresAt: number;
  ttlMs: number;
}

export interface MemoryOptions {
  /** Most sessions kept at once; the least recently used is evicted past it (default 100,000). */
  max_sessions: number;
}

export class MemoryEngine implements SessionEngine {
  readonly #entries = new Map<string, Entry>();
  readonly #maxSessions: number;
  readonly #defaultTtlMs: number;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: MemoryOptions, sessionDurationSeconds: number) {
    this.#maxSessions = options.max_sessions;
    this.#defaultTtlMs = sessionDurationSeconds * 1000;
    const every = Math.min(60_000, Math.max(1000, this.#defaultTtlMs / 2));
    this.#sweep = setInterval(() => this.sweep(), every).unref();
  }

  /** How many sessions are held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  async retrieve(id: string): Promise<SessionRecord | undefined> {
    const entry = this.#live(id);
    if (!entry) return undefined;
    this.#touch(id, entry);
    return { data: JSON.parse(entry.json) };
  }

  async flush(id: string, change: SessionChange, ttlSeconds?: number): Promise<void> {
    const entry = this.#live(id);
    if (change.isNew && entry) throw new Error(`session id ${id} is already taken`);
    if (!change.isNew && !entry) return; // destroyed or expired meanwhile: do not bring it back
    const data = applyChange(entry ? JSON.parse(entry.json) : undefined, change);
    const ttlMs = ttlSeconds === undefined ? this.#defaultTtlMs : ttlSeconds * 1000;
    this.#touch(id, { json: JSON.stringify(data), expiresAt: 0, ttlMs });
    if (this.#entries.size > this.#maxSessions) this.#evictOldest();
  }

  async destroy(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  async *sessions(): AsyncIterable<string> {
    const now = Date.now();
    for (const [id, entry] of this.#entries) if (entry.expiresAt > now) yield id;
  }

  async changeId(oldId: string, newId: string): Promise<void> {
    const entry = this.#live(oldId);
    if (!entry) return;
    this.#entries.delete(oldId);
    this.#touch(newId, entry);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }

  /** Drops expired sessions; called by the timer. Stops at the first live one (LRU order). */
  sweep(now = Date.now()): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /** Slides the expiry and moves the entry to the most-recently-used end. */
  #touch(id: string, entry: Entry): void {
    entry.expiresAt = Date.now() + entry.ttlMs;
    this.#entries.delete(id);
    this.#entries.set(id, entry);
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}

/** The Memory engine as config.yml sees it: `session: Memory`, options under `engines.session.Memory`. */
export const memoryEngine: SessionEngineDefinition<MemoryOptions> = {
  options: { max_sessions: integer(100_000, 1) },
  create: (options, context) => new MemoryEngine(options, context.sessionDuration),
};
