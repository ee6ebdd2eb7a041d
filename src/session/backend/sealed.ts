/**
 * The backend of an engine of the sealer kind (SealedEngine: Cookie). The cookie value is the
 * session itself: a read opens it, a flush has nothing to store (the Set-Cookie carrying the new
 * seal is the write), a destroy has nothing to delete (the factory expires the cookie), and a new
 * id is simply sealed into the next cookie. It has none of the store's capabilities.
 *
 * With the engine's revocation store (session/revocation/, docs/design.md#revocable-sealed-cookies)
 * a copy of a cookie can be stopped: every opened cookie is checked against it (one round trip on
 * Redis, none on Memory), a destroy or an id change denies the old id's cookies until they would
 * have expired, and the store's per-user list and not-before give the owner index (login,
 * userSessions, destroyUserSessions and its credentialsChanged). Each seal carries when its id was
 * issued, which the not-before is compared with.
 *
 * Renewal (`renewal_duration`, docs/design.md#cookie-renewal-as-a-reseal): a cookie whose id is
 * older is resealed under a new id derived from the old one, so that concurrent requests with the
 * old cookie all move to the same new session; the old id is denied after `renewal_grace`.
 */
import { createHash } from 'node:crypto';
import type { SealedEngine, SessionSealer } from '../engine.ts';
import type { RevocationStore } from '../revocation/revocation-store.ts';
import { notBeforeKeptMs } from '../revocation/revocation-store.ts';
import type { Session } from '../session.ts';
import { isSessionId } from '../session-id.ts';
import type { SessionDevice } from '../session-meta.ts';
import type { SessionPolicy } from '../settings.ts';
import { sessionHandle } from '../store-key.ts';
import type { UserSession } from '../user-sessions.ts';
import { guard, NOTHING, storedSession, ttlSeconds, type BackendOwners, type SessionBackend } from './backend.ts';

export class SealedBackend implements SessionBackend {
  readonly name: string;
  readonly take = undefined;
  readonly unreadFlush = undefined;
  /** The owner index, from the revocation store when the engine has one. */
  readonly owners: BackendOwners | undefined;
  readonly requestDeadlineMs = undefined;
  readonly merges = false;
  /** renewal_duration is honoured where a cookie is opened (#openChecked), not by the factory. */
  readonly renewsItself = true;
  readonly engine: SealedEngine;
  readonly #sealer: SessionSealer;
  readonly #policy: SessionPolicy;
  readonly #revocations: RevocationStore | undefined;
  /** Sessions opened with less than half their idle time left: resealed even if unchanged. */
  readonly #resealDue = new WeakSet<Session>();
  /** When each session's id was issued (ms since epoch), sealed with it. */
  readonly #issuedAt = new WeakMap<Session, number>();

  constructor(engine: SealedEngine, policy: SessionPolicy) {
    this.name = engine.sealer.constructor.name;
    this.engine = engine;
    this.#sealer = engine.sealer;
    this.#policy = policy;
    const revocations = (this.#revocations = engine.revocations);
    this.owners = revocations === undefined ? undefined : new RevocationOwners(revocations, policy);
  }

  retrieve(value: string): Promise<Session | undefined> {
    if (this.#revocations === undefined && this.#policy.renewal_duration === undefined) return guard('read', () => Promise.resolve(this.#open(value)));
    return guard('read', () => this.#openChecked(value, this.#revocations));
  }

  /** The session sealed in cookie `value`: its id checked, its absolute expiry too (the idle one is the sealer's). */
  #open(value: string): Session | undefined {
    const sealed = this.#sealer.openCookie(value);
    if (!sealed || !isSessionId(sealed.id)) return undefined;
    const session = storedSession(this.#policy, sealed.id, sealed.data, sealed.size);
    if (session === undefined) return undefined;
    this.#issuedAt.set(session, sealed.issuedAt ?? 0);
    // A read-only request reseals only past half the idle window: reads stay cheap, and a session
    // in use still slides forward before it expires.
    if (sealed.expiresAt - Date.now() < ((session.lifetime ?? this.#policy.session_duration) * 1000) / 2) this.#resealDue.add(session);
    return session;
  }

  /** #open, then the revocation store's word on it (where there is one); a renewal due is made here. */
  async #openChecked(value: string, revocations: RevocationStore | undefined): Promise<Session | undefined> {
    const session = this.#open(value);
    if (session === undefined) return undefined;
    const now = Date.now();
    const owner = session.owner;
    const issuedAt = this.#issuedAt.get(session)!;
    if (revocations !== undefined) {
      // A reseal slides the cookie's life: its owner's list entry slides with it, in the same call.
      const until = owner !== undefined && this.#resealDue.has(session) ? now + ttlSeconds(this.#policy, session) * 1000 : undefined;
      const check = { handle: sessionHandle(session.id), owner, issuedAt, ...(until === undefined ? {} : { until }) };
      if (await revocations.isRevoked(check, now)) return undefined;
    }
    const renewal = this.#policy.renewal_duration;
    if (renewal !== undefined && issuedAt + renewal * 1000 <= now) await this.#renew(session, issuedAt, now);
    return session;
  }

  /**
   * Renewal: a new id derived from the old one and its issue time (concurrent requests with the
   * old cookie all derive the same one, so they leave one session, not several), sealed now; the
   * old id's cookies are denied once `renewal_grace` has passed, so requests in flight finish.
   */
  async #renew(session: Session, issuedAt: number, now: number): Promise<void> {
    const oldId = session.id;
    const newId = createHash('sha256').update(`quickstep.renewal:${oldId}:${issuedAt}`).digest('base64url').slice(0, 32);
    await this.#deny(session, oldId, newId, now + this.#policy.renewal_grace * 1000);
    session.rename(newId);
    this.#issuedAt.set(session, now);
    this.#resealDue.add(session);
  }

  /** Cookies of `id` stop opening from `from`; an owner's list entry moves to `nextId`'s. */
  #deny(session: Session, id: string, nextId: string | undefined, from: number): Promise<void> {
    const revocations = this.#revocations;
    if (revocations === undefined) return NOTHING;
    const until = Date.now() + ttlSeconds(this.#policy, session) * 1000;
    return revocations.deny(sessionHandle(id), session.owner, from, until, nextId === undefined ? undefined : sessionHandle(nextId));
  }

  /**
   * Nothing to store: the Set-Cookie from cookieValue is the write. With a revocation store an
   * owned session's write lists it (or refreshes its entry) for userSessions.
   */
  flush(session: Session, device: SessionDevice | undefined): Promise<void> {
    const revocations = this.#revocations;
    const owner = session.owner;
    if (revocations === undefined || owner === undefined) return NOTHING;
    const now = Date.now();
    const entry = { created: session.createdAt, at: device?.at ?? now, userAgent: device?.userAgent, ip: device?.ip };
    const handle = sessionHandle(session.id);
    const recorded = revocations.record(owner, handle, entry, now + ttlSeconds(this.#policy, session) * 1000);
    // Logged in as someone else: the session leaves the previous user's list.
    const previous = session.change.owner?.previous;
    const moved = previous === undefined || previous === owner ? undefined : revocations.unlist(previous, handle);
    return guard('save', () => (moved === undefined ? recorded : Promise.all([recorded, moved]).then(() => undefined)));
  }

  /** Nothing to delete on the server: the factory expires the cookie; with a revocation store its copies are denied. */
  destroy(id: string, _owner: string | undefined, session?: Session): Promise<void> {
    if (this.#revocations === undefined || session === undefined) return NOTHING;
    return guard('delete', () => this.#deny(session, id, undefined, Date.now()));
  }

  /**
   * The next seal carries the new id. Without a revocation store a copy of the old cookie still
   * opens until it expires; with one, the old id is denied from now.
   */
  async changeId(session: Session, newId: string): Promise<Session> {
    const oldId = session.id;
    if (!session.isNew) await guard('rename', () => this.#deny(session, oldId, newId, Date.now()));
    session.rename(newId);
    this.#issuedAt.set(session, Date.now());
    return session;
  }

  /** Nothing waits: a sealed session's new id is in its next seal. */
  settleMove(): Promise<void> {
    return Promise.resolve();
  }

  cookieValue(session: Session): string {
    // A new session's id is issued by this seal.
    const issuedAt = this.#issuedAt.get(session) ?? Date.now();
    if (!this.#issuedAt.has(session)) this.#issuedAt.set(session, issuedAt);
    return this.#sealer.sealCookie(session.id, session.storedJson(), ttlSeconds(this.#policy, session), issuedAt);
  }

  /** A changed session (the cookie is its only copy), or one due for a reseal. */
  mustReseal(session: Session): boolean {
    return session.isDirty || this.#resealDue.has(session);
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }
}

/** The owner index of a sealed engine, from its revocation store's per-user list and not-before. */
class RevocationOwners implements BackendOwners {
  readonly #revocations: RevocationStore;
  readonly #policy: SessionPolicy;

  constructor(revocations: RevocationStore, policy: SessionPolicy) {
    this.#revocations = revocations;
    this.#policy = policy;
  }

  list(owner: string, currentId: string | undefined): Promise<UserSession[]> {
    const current = currentId === undefined ? undefined : sessionHandle(currentId);
    return guard('list', async () => {
      const listed = await this.#revocations.list(owner, Date.now());
      return listed
        .map(({ handle, entry }) => ({
          handle,
          current: handle === current,
          createdAt: new Date(entry.created),
          lastSeenAt: new Date(entry.at),
          userAgent: entry.userAgent,
          ip: entry.ip,
          // Device binding (dbsc) is not offered on a sealing engine.
          deviceBound: false,
        }))
        .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
    });
  }

  /** Every cookie of `owner` issued until now stops opening, but `exceptId`'s. */
  destroy(owner: string, exceptId: string | undefined): Promise<number> {
    const keep = exceptId === undefined ? undefined : sessionHandle(exceptId);
    const { session_duration, absolute_duration } = this.#policy;
    return guard('delete', () => this.#revocations.revokeOwner(owner, Date.now(), keep, notBeforeKeptMs(session_duration, absolute_duration)));
  }

  /**
   * The listed sessions of `owner` among `handles` stop opening ("sign out this device"). A
   * copy's expiry is not known here, so each denial is kept as long as a not-before would be.
   */
  end(owner: string, handles: readonly string[]): Promise<number> {
    const { session_duration, absolute_duration } = this.#policy;
    return guard('delete', async () => {
      const now = Date.now();
      const listed = new Set((await this.#revocations.list(owner, now)).map(({ handle }) => handle));
      const ending = handles.filter(handle => listed.has(handle));
      for (const handle of ending) await this.#revocations.deny(handle, owner, now, now + notBeforeKeptMs(session_duration, absolute_duration));
      return ending.length;
    });
  }
}
