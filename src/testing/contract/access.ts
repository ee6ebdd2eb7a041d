/**
 * How the engine contract suite reads and writes the engine under test, so that one suite covers
 * both kinds of engine (engine.ts):
 * - a store (StoredEngine: Memory, Redis) directly: `retrieve`, `flush`, `destroy`;
 * - a sealer (SealedEngine: Cookie, no server state) through a jar of cookies, one per id, as
 *   browsers would hold them: a write opens the id's cookie, applies the change and seals the
 *   result, as the SessionFactory does; a read opens it, and reseals it with `sessionDuration`
 *   when less than half of that is left (the factory's sliding expiry); destroy drops the cookie
 *   (the factory sends an expired one).
 * And how a test finds a capability object the engine declares (`capability`).
 */
import * as assert from 'node:assert/strict';
import { applyChange } from '../../session/apply-change.ts';
import type { SessionEngine, SessionSealer, SessionStore, SessionValues, StoredEngine } from '../../session/engine.ts';
import { Session } from '../../session/session.ts';

export interface EngineAccess {
  /** Flushes what `edit` does to a session with `id` (new or existing) and returns the session. */
  write(id: string, isNew: boolean, edit: (session: Session) => void, ttlSeconds: number): Promise<Session>;
  /** The session's data, or undefined for an unknown or expired one. */
  read(id: string): Promise<SessionValues | undefined>;
  destroy(id: string): Promise<void>;
}

export function engineAccess(engine: SessionEngine, sessionDuration: number): EngineAccess {
  return 'sealer' in engine ? sealerAccess(engine.sealer, sessionDuration) : storeAccess(engine.store);
}

function storeAccess(store: SessionStore): EngineAccess {
  return {
    async write(id, isNew, edit, ttlSeconds) {
      const session = new Session(id, {}, isNew);
      edit(session);
      await store.flush(id, session.change, ttlSeconds);
      return session;
    },
    read: async id => (await store.retrieve(id))?.data,
    destroy: id => store.destroy(id),
  };
}

function sealerAccess(sealer: SessionSealer, sessionDuration: number): EngineAccess {
  const jar = new Map<string, string>();
  const open = (id: string) => {
    const cookie = jar.get(id);
    const sealed = cookie === undefined ? undefined : sealer.openCookie(cookie);
    return sealed?.id === id ? sealed : undefined;
  };
  const seal = (id: string, data: SessionValues, ttlSeconds: number) => jar.set(id, sealer.sealCookie(id, JSON.stringify(data), ttlSeconds));
  return {
    async write(id, isNew, edit, ttlSeconds) {
      const session = new Session(id, {}, isNew);
      edit(session);
      const stored = open(id);
      if (isNew) seal(id, applyChange(undefined, session.change), ttlSeconds);
      else if (stored) seal(id, applyChange(stored.data, session.change), ttlSeconds);
      return session;
    },
    async read(id) {
      const sealed = open(id);
      if (sealed && sealed.expiresAt - Date.now() < (sessionDuration * 1000) / 2) seal(id, sealed.data, sessionDuration);
      return sealed?.data;
    },
    async destroy(id) {
      jar.delete(id);
    },
  };
}

/** The capability objects of a StoredEngine, and the methods each one has (for failure messages). */
export const CAPABILITY_METHODS = {
  changeId: 'changeId method',
  changeIdAtFlush: 'flushMoved method',
  take: 'take method',
  flushUnread: 'flushUnread method',
  owners: 'ownedSessions and destroyOwned methods',
  renewal: 'renewId method',
} as const;

export type CapabilityObject = keyof typeof CAPABILITY_METHODS;

/**
 * The capability object `name` of `engine`, which the engine declares: a test of it fails here,
 * naming what is missing, when the engine's `create` does not give it.
 */
export function capability<Name extends CapabilityObject>(engine: StoredEngine, name: Name): NonNullable<StoredEngine[Name]> {
  const found = engine[name];
  if (found === undefined) assert.fail(`the engine declares ${name} but has no ${CAPABILITY_METHODS[name]} (its create gives no \`${name}\` object)`);
  return found as NonNullable<StoredEngine[Name]>;
}
