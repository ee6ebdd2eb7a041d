/**
 * The backend of an engine of the store kind (StoredEngine: Memory, Redis, third-party stores).
 * Every id is checked and mapped to its store key (store-key.ts) before the store sees it, and
 * every call is guarded (a failure is a SessionStoreError). The capabilities the engine offers
 * are resolved here once, into objects by id or undefined: the factory never looks for a method.
 */
import type { IdChange, IdChangeAtFlush, SessionChange, SessionRecord, SessionStore, StoredEngine } from '../engine.ts';
import { openForward, sealForward } from '../renewal-forward.ts';
import { Session } from '../session.ts';
import { isSessionId } from '../session-id.ts';
import { ownerOf, type SessionDevice } from '../session-meta.ts';
import type { SessionPolicy } from '../settings.ts';
import { idAsKey, sessionHandle, storeKeyFor, type StoreKey } from '../store-key.ts';
import { listUserSessions } from '../user-sessions.ts';
import { guard, NOTHING, storedSession, ttlSeconds, type BackendOwners, type BackendRenewal, type BackendTake, type BackendUnreadFlush, type SessionBackend } from './backend.ts';

export class StoredBackend implements SessionBackend {
  readonly name: string;
  readonly take: BackendTake | undefined;
  readonly unreadFlush: BackendUnreadFlush | undefined;
  readonly owners: BackendOwners | undefined;
  readonly renewal: BackendRenewal | undefined;
  readonly requestDeadlineMs: number | undefined;
  readonly merges = true;
  readonly #store: SessionStore;
  readonly #changeId: IdChange | undefined;
  /** The move and the flush in one step (a login in two round trips on a single Redis). */
  readonly #changeIdAtFlush: IdChangeAtFlush | undefined;
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
    this.#changeIdAtFlush = changeId && engine.changeIdAtFlush;
    this.#policy = policy;
    this.#key = key;
    this.requestDeadlineMs = engine.requestDeadlineMs;
    this.take = take && { take: (id, name) => guard('read', () => take.take(key(id), name)) };
    if (flushUnread) {
      const { session_duration: idle, absolute_duration: absolute, max_session_size: maxSize } = policy;
      const save = (id: string, change: SessionChange, writtenAt: number) => () => flushUnread.flushUnread(key(id), change, { idle, absolute, maxSize, writtenAt });
      this.unreadFlush = {
        // A miss may be a session stored before hash_ids: re-keyed, then written (see #rekey).
        flushUnread: (id, change, writtenAt) => guard('save', save(id, change, writtenAt), done =>
          (done !== undefined || !this.#rekeys ? done : this.#rekey(id).then(found => (found ? guard('save', save(id, change, writtenAt)) : undefined)))),
      };
    }
    this.owners = owners && {
      list: (owner, currentId) => {
        const current = currentId === undefined ? undefined : key(currentId);
        return guard('list', () => owners.ownedSessions(owner), owned => listUserSessions(owned, current, policy.absolute_duration));
      },
      destroy: (owner, exceptId) => guard('delete', () => owners.destroyOwned(owner, exceptId === undefined ? undefined : key(exceptId))),
      // The index lists store keys; a handle is found among them (a rare, user-asked operation: a list, then the deletes).
      end: (owner, handles) => guard('delete', async () => {
        // A Set: a cap trim may end hundreds of a user's sessions (handles × sessions comparisons otherwise).
        const wanted = new Set(handles);
        const ending = (await owners.ownedSessions(owner)).filter(owned => wanted.has(sessionHandle(owned.id)));
        await Promise.all(ending.map(owned => store.destroy(owned.id, owner)));
        return ending.length;
      }),
    };
    const renewal = engine.renewal;
    this.renewal = renewal && {
      renew: (session, newId) => {
        const grace = { seconds: policy.renewal_grace, forward: sealForward(session.id, newId) };
        return guard('rename', () => renewal.renewId(key(session.id), key(newId), session.owner, grace), renewed => {
          if (!renewed) return undefined;
          session.rename(newId);
          return session;
        });
      },
    };
    this.#rekeys = policy.hash_ids && policy.rekey_unhashed_ids && changeId !== undefined;
  }

  /** hash_ids with rekey_unhashed_ids: a miss looks for the id stored as its own key (see #rekey). */
  readonly #rekeys: boolean;

  /**
   * A session stored before hash_ids was turned on, under its id itself: moved to its hashed key
   * (changeId, keeping it in its owner's index), so turning hash_ids on logs no one out
   * (docs/design.md#migrations-that-log-no-one-out). Costs a read on a miss only (an unknown id),
   * and the move once per such session. The record, or undefined when there is none.
   */
  async #rekey(id: string): Promise<SessionRecord | undefined> {
    const record = await guard('read', () => this.#store.retrieve(idAsKey(id)));
    if (record === undefined || record.renewedTo !== undefined) return undefined;
    const owner = ownerOf(record.data);
    const changer = this.#changeId!;
    const hashed = this.#key(id);
    await guard('rename', () => (owner === undefined ? changer.changeId(id, hashed) : changer.changeId(id, hashed, owner)));
    return record;
  }

  /** The cookie's value is the id: checked before the store sees it. */
  retrieve(id: string): Promise<Session | undefined> {
    if (!isSessionId(id)) return NOTHING;
    const key = this.#key(id);
    return guard('read', () => this.#store.retrieve(key), record => {
      if (record === undefined) return this.#rekeys ? this.#rekey(id).then(found => found && this.#session(id, found)) : undefined;
      const session = this.#session(id, record);
      // Its flush uses this key too; a renewal's forward gives the session another id, then none is kept.
      if (session !== undefined && session.id === id) session.keyedAs(key);
      return session;
    });
  }

  /** The key of `session`'s id now: the one its read found it under while the id is the same, else derived. */
  #keyOf(session: Session): string {
    return session.storeKey ?? this.#key(session.id);
  }

  /**
   * The Session for what the store gave for `id`: through a renewal's old id within its grace
   * window, the session under its new id (renewal-forward.ts), marked so its cookie is sent.
   */
  #session(id: string, record: SessionRecord): Session | undefined {
    if (record.renewedTo === undefined) return storedSession(this.#policy, id, record.data, record.size);
    const newId = openForward(id, record.renewedTo);
    const session = newId === undefined ? undefined : storedSession(this.#policy, newId, record.data, record.size);
    session?.markArrivedRenewed();
    return session;
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
    const from = session.movedFrom;
    if (from !== undefined) return this.#flushMoved(session, from);
    return guard('save', () => this.#store.flush(this.#keyOf(session), session.change, ttlSeconds(policy, session), policy.max_session_size));
  }

  /** The move changeId left for the flush, and the flush, in one step (IdChangeAtFlush). */
  #flushMoved(session: Session, from: string): Promise<void> {
    const policy = this.#policy;
    const change = session.change;
    const [oldKey, key, ttl] = [this.#key(from), this.#key(session.id), ttlSeconds(policy, session)];
    const atFlush = this.#changeIdAtFlush!;
    return guard('save', () => atFlush.flushMoved(oldKey, key, change, ttl, policy.max_session_size, indexedOwner(session)), () => session.moved());
  }

  settleMove(session: Session): Promise<void> {
    const from = session.movedFrom;
    if (from === undefined) return Promise.resolve();
    return this.#moveKey(this.#key(from), this.#key(session.id), indexedOwner(session)).then(() => session.moved());
  }

  /** IdChange.changeId, guarded; `owner` (the owner whose index holds the session) only when there is one. */
  #moveKey(oldKey: string, newKey: string, owner: string | undefined): Promise<void> {
    const changer = this.#changeId!;
    return guard('rename', () => (owner === undefined ? changer.changeId(oldKey, newKey) : changer.changeId(oldKey, newKey, owner)));
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
    if (this.#changeIdAtFlush) {
      // The store's side waits for the flush, which does it in the same step (or settleMove).
      session.moveAtFlush(newId);
      return session;
    }
    const oldId = session.id;
    const owner = session.owner;
    if (this.#changeId) {
      await this.#moveKey(this.#key(oldId), this.#key(newId), owner);
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

/** The owner whose index holds `session` in the store now: the one before this request's login, if any. */
function indexedOwner(session: Session): string | undefined {
  const login = session.change.owner;
  return login ? login.previous : session.owner;
}
