/**
 * The backend of an engine of the sealer kind (SealedEngine: Cookie). The cookie value is the
 * session itself: a read opens it, a flush has nothing to store (the Set-Cookie carrying the new
 * seal is the write), a destroy has nothing to delete (the factory expires the cookie), and a new
 * id is simply sealed into the next cookie. It has none of the store's capabilities.
 */
import type { SessionSealer, SealedEngine } from '../engine.ts';
import type { Session } from '../session.ts';
import { isSessionId } from '../session-id.ts';
import type { SessionPolicy } from '../settings.ts';
import { guard, NOTHING, storedSession, ttlSeconds, type SessionBackend } from './backend.ts';

export class SealedBackend implements SessionBackend {
  readonly name: string;
  readonly take = undefined;
  readonly unreadFlush = undefined;
  readonly owners = undefined;
  readonly requestDeadlineMs = undefined;
  readonly merges = false;
  readonly engine: SealedEngine;
  readonly #sealer: SessionSealer;
  readonly #policy: SessionPolicy;
  /** Sessions opened with less than half their idle time left: resealed even if unchanged. */
  readonly #resealDue = new WeakSet<Session>();

  constructor(engine: SealedEngine, policy: SessionPolicy) {
    this.name = engine.sealer.constructor.name;
    this.engine = engine;
    this.#sealer = engine.sealer;
    this.#policy = policy;
  }

  retrieve(value: string): Promise<Session | undefined> {
    return guard('read', () => Promise.resolve(this.#open(value)));
  }

  /** The session sealed in cookie `value`: its id checked, its absolute expiry too (the idle one is the sealer's). */
  #open(value: string): Session | undefined {
    const sealed = this.#sealer.openCookie(value);
    if (!sealed || !isSessionId(sealed.id)) return undefined;
    const session = storedSession(this.#policy, sealed.id, sealed.data, sealed.size);
    // A read-only request reseals only past half the idle window: reads stay cheap, and a session
    // in use still slides forward before it expires.
    if (session && sealed.expiresAt - Date.now() < ((session.lifetime ?? this.#policy.session_duration) * 1000) / 2) this.#resealDue.add(session);
    return session;
  }

  /** Nothing to store: the Set-Cookie from cookieValue is the write. */
  flush(): Promise<void> {
    return NOTHING;
  }

  /** Nothing to delete on the server: the factory expires the cookie. */
  destroy(): Promise<void> {
    return NOTHING;
  }

  /**
   * The next seal carries the new id. A copy of the old cookie still opens until it expires:
   * nothing on the server can revoke it.
   */
  async changeId(session: Session, newId: string): Promise<Session> {
    session.rename(newId);
    return session;
  }

  cookieValue(session: Session): string {
    return this.#sealer.sealCookie(session.id, session.storedJson(), ttlSeconds(this.#policy, session));
  }

  /** A changed session (the cookie is its only copy), or one due for a reseal. */
  mustReseal(session: Session): boolean {
    return session.isDirty || this.#resealDue.has(session);
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }
}
