/**
 * The writes a request made while nothing had read its session (RequestSession.write on an
 * engine with the flushUnread capability): `session(key, value)` and `flash(key, value)` checked at once, as
 * Session.set checks them, and kept as JSON text for the one-round-trip flush at the commit.
 * If anything reads the session first, they are replayed onto it instead (replayOnto).
 */
import type { BackendUnreadFlush } from './backend/backend.ts';
import type { SessionChange, UnreadFlushed } from './engine.ts';
import { checkedWrite, emptyChange, type Session } from './session.ts';

/** One write: [JSON text, private copy of the value], or undefined for a delete. */
type UnreadWrite = [string, unknown] | undefined;

/** Checks `session(key, value)` as Session.set does (throws the same errors); undefined deletes. */
export function checkedUnreadWrite(key: string, value: unknown, maxSize: number): UnreadWrite {
  if (value === undefined) return undefined;
  const { json, copy } = checkedWrite(key, value, maxSize);
  return [json, copy];
}

export class UnreadWrites {
  /** When the first write was made (ms): a read would have been made then (see UnreadExpiry). */
  readonly since = Date.now();
  readonly #writes = new Map<string, UnreadWrite>();
  /** The engine's flushUnread capability, which these writes exist for. */
  readonly #store: BackendUnreadFlush;

  constructor(store: BackendUnreadFlush) {
    this.#store = store;
  }

  /**
   * Stores `change` (this.change()) in the session `id` if it exists and is not past
   * absolute_duration; undefined when it does not: nothing stored.
   */
  flush(id: string, change: SessionChange): Promise<UnreadFlushed | undefined> {
    return this.#store.flushUnread(id, change, this.since);
  }

  /** Records a write that checkedUnreadWrite accepted; a later one of the same key wins. */
  set(key: string, write: UnreadWrite): void {
    this.#writes.set(key, write);
  }

  /** The writes as the SessionChange engine.flushUnread applies to what is stored. */
  change(): SessionChange {
    const change = emptyChange(false, false);
    for (const [key, write] of this.#writes) {
      if (write === undefined) change.deleted.add(key);
      else change.set.set(key, write[0]);
    }
    return change;
  }

  /** Makes the same writes on a loaded or new session, in the order they were made. */
  replayOnto(session: Session): void {
    for (const [key, write] of this.#writes) session.set(key, write?.[1]);
  }
}
