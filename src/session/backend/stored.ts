/**
 * The backend of an engine of the store kind (StoredEngine: Memory, Redis, third-party stores).
 * Every id is checked and mapped to its store key (store-key.ts) before the store sees it, and
 * every call is guarded (a failure is a SessionStoreError). The capabilities the engine offers
 * are resolved here once, into objects by id or undefined: the factory never looks for a method.
 */
import type { IdChange, SessionStore, StoredEngine } from '../engine.ts';
import { Session } from '../session.ts';
import { isSessionId } from '../session-id.ts';
import type { SessionDevice } from '../session-meta.ts';
import type { SessionPolicy } from '../settings.ts';
import { storeKeyFor, type StoreKey } from '../store-key.ts';
import { listUserSessions } from '../user-sessions.ts';
import { guard, NOTHING, storedSession, ttlSeconds, type BackendOwners, type BackendTake, type BackendUnreadFlush, type SessionBackend } from './backend.ts';

export class StoredBackend implements SessionBackend {
  readonly name: string;
  readonly take: BackendTake | undefined;
  readonly unreadFlush: BackendUnreadFlush | undefined;
  readonly owners: BackendOwners | undefined;
  readonly requestDeadlineMs: number | undefined;
  readonly merges = true;
  readonly #store: SessionStore;
  readonly #changeId: IdChange | undefined;
  readonly engine: StoredEngine;
  readonly #policy: SessionPolicy;
  /** id -> the key the store keeps it under: the id itself, or its SHA-256 with `hash_ids`. */
  readonly #key: StoreKey;

  constructor(engine: StoredEngine, policy: SessionPolicy) {
    const { store, changeId, take, flushUnread, owners } = engine;
    const key = storeKeyFor(policy.hash_ids);
    this.name = store.constructor.name;
    this.engine = engine;
    this.#store = store;
    this.#changeId = changeId;
    this.#policy = policy;
    this.#key = key;
    this.requestDeadlineMs = engine.requestDeadlineMs;
    this.take = take && { take: (id, name) => guard('read', () => take.take(key(id), name)) };
    if (flushUnread) {
      const { session_duration: idle, absolute_duration: absolute, max_session_size: maxSize } = policy;
      this.unreadFlush = { flushUnread: (id, change, writtenAt) => guard('save', () => flushUnread.flushUnread(key(id), change, { idle, absolute, maxSize, writtenAt })) };
    }
    this.owners = owners && {
      list: (owner, currentId) => {
        const current = currentId === undefined ? undefined : key(currentId);
        return guard('list', () => owners.ownedSessions(owner)).then(owned => listUserSessions(owned, current, policy.absolute_duration));
      },
      destroy: (owner, exceptId) => guard('delete', () => owners.destroyOwned(owner, exceptId === undefined ? undefined : key(exceptId))),
    };
  }

  /** The cookie's value is the id: checked before the store sees it. */
  retrieve(id: string): Promise<Session | undefined> {
    if (!isSessionId(id)) return NOTHING;
    return guard('read', () => this.#store.retrieve(this.#key(id))).then(record => (record ? storedSession(this.#policy, id, record.data, record.size) : undefined));
  }

  /**
   * The change log applied in the store, with the expiry from ttlSeconds. An owned session's
   * write also records `device`, the client that made it (what userSessions shows), in the same
   * flush.
   */
  flush(session: Session, device: SessionDevice | undefined): Promise<void> {
    session.saveMetaIfUnsaved();
    if (device && session.owner !== undefined) session.recordDevice(device);
    const policy = this.#policy;
    return guard('save', () => this.#store.flush(this.#key(session.id), session.change, ttlSeconds(policy, session), policy.max_session_size));
  }

  destroy(id: string, owner: string | undefined): Promise<void> {
    const key = this.#key(id);
    return guard('delete', () => (owner === undefined ? this.#store.destroy(key) : this.#store.destroy(key, owner)));
  }

  /**
   * Stored data moves with the session: in one step with the `changeId` capability, else
   * rewritten under the new id (a new session, stored at its flush) and the old one deleted.
   */
  async changeId(session: Session, newId: string): Promise<Session> {
    if (session.isNew) {
      session.rename(newId);
      return session;
    }
    const oldId = session.id;
    const owner = session.owner;
    const changer = this.#changeId;
    if (changer) {
      const [oldKey, newKey] = [this.#key(oldId), this.#key(newId)];
      await guard('rename', () => (owner === undefined ? changer.changeId(oldKey, newKey) : changer.changeId(oldKey, newKey, owner)));
      session.rename(newId);
      return session;
    }
    const moved = new Session(newId, {}, true, this.#policy.max_session_size, undefined, { created: session.createdAt, ...(session.lifetime === undefined ? {} : { remember: session.lifetime }) });
    for (const [name, value] of Object.entries(session.toJSON())) moved.set(name, value);
    await this.destroy(oldId, owner);
    // Out of the index with the old id, back in with the new one, at the new session's flush.
    if (owner !== undefined) moved.setOwner(owner);
    return moved;
  }

  cookieValue(session: Session): string {
    return session.id;
  }

  mustReseal(): boolean {
    return false;
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }
}
