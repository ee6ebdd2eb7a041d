/**
 * The in-process session engine, and the default. Sessions live in one Map per engine as JSON
 * text, so what a request does to its objects after the flush is never stored by accident.
 *
 * The entries are also linked in least-recently-used order (recency-list.ts: a touch moves one to
 * the newest end), which gives the bounds cheaply: past `max_sessions` sessions or `max_bytes` of
 * JSON in all, the oldest are evicted, and since the expiry is sliding, expired entries gather at
 * the oldest end where the sweep finds them. The Map is only the index by id. With
 * max_session_size checked at every flush, no sequence of requests can hold more than max_bytes
 * (plus one session) or make one session slow for its neighbours.
 * For one process only: several app servers need a shared engine such as Redis.
 *
 * The owner index (login / userSessions) is a Set of ids per owner, next to the Map; an entry
 * knows its owner, so every way out of the Map (destroy, expiry, eviction, changeId) keeps the
 * index exact.
 */
import { SessionTooLargeError } from '../../../base/errors.ts';
import { integer } from '../../../base/schema.ts';
import { applyChange } from '../../apply-change.ts';
import type { AtomicTake, IdChange, IdRenewal, OwnedSession, OwnerChange, OwnerIndex, SessionChange, SessionEngineDefinition, RenewalGrace, SessionRecord, SessionStore, SessionValues, StoredEngine, UnreadExpiry, UnreadFlush, UnreadFlushed } from '../../engine.ts';
import { readMeta, ttlFor } from '../../session-meta.ts';
import { RecencyList, type Linked } from './recency-list.ts';

const DEFAULT_MAX_BYTES = 64 * 2 ** 20;

interface Entry extends Linked<Entry> {
  /** The key of this entry in the Map (changeId changes it). */
  id: string;
  json: string;
  /** Bytes of `json` in UTF-8. */
  size: number;
  expiresAt: number;
  ttlMs: number;
  /** The owner from login(), whose index holds this id. */
  owner: string | undefined;
}

export interface MemoryOptions {
  /** Most sessions kept at once; the least recently used is evicted past it (default 100,000). */
  max_sessions: number;
  /**
   * Most bytes of session JSON (UTF-8) kept at once, all sessions together; the least recently
   * used are evicted past it, the one just written excepted (default 64 MiB).
   */
  max_bytes: number;
}

/** What changeId and renewId leave at the old id (see #movedTo). */
interface MovedTo {
  to: string;
  until: number;
  at: number;
  /** renewId: reads follow the pointer until then (ms), and answer with `forward`. */
  graceUntil?: number;
  forward?: string;
}

/** How long a changed id's moved-to pointer sends flushes on to the new one (as the Redis engine's MOVED_TO_SECONDS). */
const MOVED_TO_MS = 10_000;

/** The store, and every capability of the store kind (storedMemoryEngine offers them all). */
export class MemoryEngine implements SessionStore, IdChange, IdRenewal, AtomicTake, UnreadFlush, OwnerIndex {
  readonly #entries = new Map<string, Entry>();
  readonly #order = new RecencyList<Entry>();
  /** owner -> the ids of its sessions (the owner index; an owner with none has no Set). */
  readonly #owners = new Map<string, Set<string>>();
  /**
   * old id -> new id and until when, left by changeId: a request that read the session before
   * its id changed and flushes after must not lose its write (docs/design.md#ids-and-fixation). Only flush follows it;
   * a read of the old id stays unknown, so fixation stays defeated. A renewal's pointer (renewId)
   * is also followed by reads until `graceUntil`, answering with its `forward`
   * (docs/design.md#renewal-with-a-grace-window).
   */
  readonly #movedTo = new Map<string, MovedTo>();
  readonly #maxSessions: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #defaultTtlMs: number;
  readonly #sweep: NodeJS.Timeout;

  /** `max_bytes` may be left out (for code that builds the engine itself): 64 MiB. */
  constructor(options: Omit<MemoryOptions, 'max_bytes'> & { max_bytes?: number }, sessionDurationSeconds: number) {
    this.#maxSessions = options.max_sessions;
    this.#maxBytes = options.max_bytes ?? DEFAULT_MAX_BYTES;
    this.#defaultTtlMs = sessionDurationSeconds * 1000;
    const every = Math.min(60_000, Math.max(1000, this.#defaultTtlMs / 2));
    this.#sweep = setInterval(() => this.sweep(), every).unref();
  }

  /** How many sessions are held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes of JSON held, all sessions together (what max_bytes bounds). */
  get bytes(): number {
    return this.#bytes;
  }

  async retrieve(id: string): Promise<SessionRecord | undefined> {
    const entry = this.#live(id);
    if (!entry) return this.#movedTo.size === 0 ? undefined : this.#renewed(id);
    this.#touch(entry);
    return { data: JSON.parse(entry.json), size: entry.size };
  }

  /** A read of a renewal's old id within its grace window: the session it moved to, with the forward. */
  #renewed(id: string): SessionRecord | undefined {
    const pointer = this.#movedTo.get(id);
    if (pointer?.graceUntil === undefined || pointer.graceUntil <= Date.now()) return undefined;
    const entry = this.#live(this.#followMovedTo(pointer.to));
    if (!entry) return undefined;
    this.#touch(entry);
    return { data: JSON.parse(entry.json), size: entry.size, renewedTo: pointer.forward! };
  }

  async flush(id: string, change: SessionChange, ttlSeconds?: number, maxSize = Infinity): Promise<void> {
    if (!change.isNew) id = this.#followMovedTo(id);
    const entry = this.#live(id);
    if (change.isNew && entry) throw new Error(`session id ${id} is already taken`);
    if (!change.isNew && !entry) return; // destroyed or expired meanwhile: do not bring it back
    const data = applyChange(entry ? JSON.parse(entry.json) : undefined, change);
    this.#store(id, entry, data, ttlSeconds === undefined ? this.#defaultTtlMs : ttlSeconds * 1000, maxSize, change.owner);
  }

  /** flush without a read before it: the expiry rules applied here from the stored meta. */
  async flushUnread(id: string, change: SessionChange, expiry: UnreadExpiry): Promise<UnreadFlushed | undefined> {
    id = this.#followMovedTo(id, expiry.writtenAt);
    const entry = this.#live(id);
    if (!entry) return undefined;
    const stored = JSON.parse(entry.json) as SessionValues;
    const meta = readMeta(stored);
    const ttl = ttlFor(meta, expiry.idle, expiry.absolute, Date.now());
    if (ttl <= 0) return undefined; // past absolute_duration: as unknown as a read finds it
    this.#store(id, entry, applyChange(stored, change), ttl * 1000, expiry.maxSize, change.owner);
    return { lifetime: meta?.remember };
  }

  /** Stores `data` as the session `id` (replacing `entry`; a login moves it in the owner index), then evicts past the bounds. */
  #store(id: string, entry: Entry | undefined, data: SessionValues, ttlMs: number, maxSize: number, ownerChange: OwnerChange | undefined): void {
    const json = JSON.stringify(data);
    const size = Buffer.byteLength(json);
    if (size > maxSize) throw new SessionTooLargeError(size, maxSize);
    this.#bytes += size - (entry?.size ?? 0);
    const owner = ownerChange ? ownerChange.next : entry?.owner;
    if (ownerChange?.previous !== undefined) this.#leave(ownerChange.previous, id);
    if (owner !== undefined) this.#join(owner, id);
    if (entry) {
      entry.json = json;
      entry.size = size;
      entry.ttlMs = ttlMs;
      entry.owner = owner;
      this.#touch(entry);
    } else {
      this.#add({ id, json, size, expiresAt: 0, ttlMs, owner, older: undefined, newer: undefined });
    }
    while ((this.#entries.size > this.#maxSessions || this.#bytes > this.#maxBytes) && this.#entries.size > 1) this.#evictOldest();
  }

  async destroy(id: string): Promise<void> {
    this.#remove(id);
  }

  async *sessions(): AsyncIterable<string> {
    const now = Date.now();
    for (const [id, entry] of this.#entries) if (entry.expiresAt > now) yield id;
  }

  async changeId(oldId: string, newId: string): Promise<void> {
    this.#move(oldId, newId, undefined);
  }

  /** changeId, with the old id followed by reads for the grace window (IdRenewal). */
  async renewId(oldId: string, newId: string, _owner: string | undefined, grace: RenewalGrace): Promise<boolean> {
    return this.#move(oldId, newId, grace);
  }

  /** Moves the entry at `oldId` to `newId` and leaves the moved-to pointer; false when there is none. */
  #move(oldId: string, newId: string, grace: RenewalGrace | undefined): boolean {
    const entry = this.#live(oldId);
    if (!entry) return false;
    this.#remove(newId); // a random id is never taken; if it were, its entry must leave the bounds too
    this.#entries.delete(oldId);
    entry.id = newId;
    this.#entries.set(newId, entry);
    this.#touch(entry);
    if (entry.owner !== undefined) {
      this.#leave(entry.owner, oldId);
      this.#join(entry.owner, newId);
    }
    const now = Date.now();
    // Expired pointers go as new ones come: the map stays as small as the recent logins.
    for (const [from, pointer] of this.#movedTo) {
      if (pointer.until > now) break;
      this.#movedTo.delete(from);
    }
    const pointer: MovedTo = grace === undefined ? { to: newId, until: now + MOVED_TO_MS, at: now }
      : { to: newId, until: now + Math.max(MOVED_TO_MS, grace.seconds * 1000), at: now, graceUntil: now + grace.seconds * 1000, forward: grace.forward };
    this.#movedTo.set(oldId, pointer);
    return true;
  }

  /**
   * Where a flush for `id` goes: along unexpired moved-to pointers (a few hops at most), else `id`.
   * With `writtenAt` (flushUnread), only along pointers left after it: a write made once the id had
   * changed is not the session holder's.
   */
  #followMovedTo(id: string, writtenAt = -Infinity): string {
    const now = Date.now();
    for (let hops = 0; hops < 8 && !this.#entries.has(id); hops++) {
      const pointer = this.#movedTo.get(id);
      // A renewal's old id is still the holder's within the grace window, whenever it wrote.
      if (!pointer || pointer.until <= now || (pointer.at <= writtenAt && !(pointer.graceUntil! > now))) break;
      id = pointer.to;
    }
    return id;
  }

  /** The live sessions in `owner`'s index; expired ones are removed on the way (no expiry slides). */
  async ownedSessions(owner: string): Promise<OwnedSession[]> {
    const owned: OwnedSession[] = [];
    for (const id of this.#owners.get(owner) ?? []) {
      const entry = this.#live(id);
      if (entry) owned.push({ id, record: { data: JSON.parse(entry.json), size: entry.size } });
    }
    return owned;
  }

  async destroyOwned(owner: string, except?: string): Promise<number> {
    let ended = 0;
    for (const id of [...(this.#owners.get(owner) ?? [])]) {
      if (id === except) continue;
      if (this.#live(id)) ended++;
      this.#remove(id);
    }
    return ended;
  }

  #join(owner: string, id: string): void {
    let ids = this.#owners.get(owner);
    if (!ids) this.#owners.set(owner, (ids = new Set()));
    ids.add(id);
  }

  #leave(owner: string, id: string): void {
    const ids = this.#owners.get(owner);
    if (!ids?.delete(id)) return;
    if (ids.size === 0) this.#owners.delete(owner);
  }

  async take(id: string, key: string): Promise<string | undefined> {
    const entry = this.#live(id);
    if (!entry) return undefined;
    const data = JSON.parse(entry.json) as Record<string, unknown>;
    if (!Object.hasOwn(data, key)) return undefined;
    const value = JSON.stringify(data[key]);
    delete data[key];
    const json = JSON.stringify(data);
    const size = Buffer.byteLength(json);
    this.#bytes += size - entry.size;
    entry.json = json;
    entry.size = size;
    return value;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }

  /** Drops expired sessions; called by the timer. Stops at the first live one (LRU order). */
  sweep(now = Date.now()): void {
    for (let entry = this.#order.oldest; entry !== undefined && entry.expiresAt <= now; entry = this.#order.oldest) {
      this.#remove(entry.id);
    }
  }

  #live(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#remove(id);
      return undefined;
    }
    return entry;
  }

  /** Slides the expiry and moves the entry to the most-recently-used end. */
  #touch(entry: Entry): void {
    entry.expiresAt = Date.now() + entry.ttlMs;
    this.#order.touch(entry);
  }

  #add(entry: Entry): void {
    entry.expiresAt = Date.now() + entry.ttlMs;
    this.#entries.set(entry.id, entry);
    this.#order.append(entry);
  }

  #evictOldest(): void {
    const oldest = this.#order.oldest;
    if (oldest) this.#remove(oldest.id);
  }

  #remove(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#bytes -= entry.size;
    this.#entries.delete(id);
    this.#order.remove(entry);
    if (entry.owner !== undefined) this.#leave(entry.owner, id);
  }
}

/** The Memory engine as config.yml sees it: `session: Memory`, options under `engines.session.Memory`. */
export const memoryEngine: SessionEngineDefinition<MemoryOptions> = {
  options: { max_sessions: integer(100_000, 1), max_bytes: integer(DEFAULT_MAX_BYTES, 1) },
  processLocal: true,
  create: (options, context) => storedMemoryEngine(new MemoryEngine(options, context.sessionDuration)),
};

/** `engine` as its definition's `create` gives it: the one instance is the store and every capability. */
export function storedMemoryEngine(engine: MemoryEngine): StoredEngine {
  return { store: engine, changeId: engine, renewal: engine, take: engine, flushUnread: engine, owners: engine, close: () => engine.close() };
}
