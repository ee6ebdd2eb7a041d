/**
 * How the engine contract suite reads and writes the engine under test, so that one suite covers
 * both kinds of engine:
 * - a store engine (Memory, Redis) directly: `retrieve`, `flush`, `destroy`;
 * - a sealing engine (Cookie: `openCookie` + `sealCookie`, no server state) through a jar of
 *   cookies, one per id, as browsers would hold them: a write opens the id's cookie, applies the
 *   change and seals the result, as the SessionFactory does; a read opens it, and reseals it with
 *   `sessionDuration` when less than half of that is left (the factory's sliding expiry); destroy
 *   drops the cookie (the factory sends an expired one).
 */
import { applyChange } from '../session/apply-change.ts';
import type { SessionEngine, SessionValues } from '../session/engine.ts';
import { Session } from '../session/session.ts';

export interface EngineAccess {
  /** Flushes what `edit` does to a session with `id` (new or existing) and returns the session. */
  write(id: string, isNew: boolean, edit: (session: Session) => void, ttlSeconds: number): Promise<Session>;
  /** The session's data, or undefined for an unknown or expired one. */
  read(id: string): Promise<SessionValues | undefined>;
  destroy(id: string): Promise<void>;
}

export function engineAccess(engine: SessionEngine, sessionDuration: number): EngineAccess {
  const { openCookie, sealCookie } = engine;
  if (typeof openCookie !== 'function' || typeof sealCookie !== 'function') {
    return {
      async write(id, isNew, edit, ttlSeconds) {
        const session = new Session(id, {}, isNew);
        edit(session);
        await engine.flush(id, session.change, ttlSeconds);
        return session;
      },
      read: async id => (await engine.retrieve(id))?.data,
      destroy: id => engine.destroy(id),
    };
  }
  const jar = new Map<string, string>();
  const open = (id: string) => {
    const cookie = jar.get(id);
    const sealed = cookie === undefined ? undefined : openCookie.call(engine, cookie);
    return sealed?.id === id ? sealed : undefined;
  };
  const seal = (id: string, data: SessionValues, ttlSeconds: number) => jar.set(id, sealCookie.call(engine, id, JSON.stringify(data), ttlSeconds));
  return {
    async write(id, isNew, edit, ttlSeconds) {
      const session = new Session(id, {}, isNew);
      edit(session);
      const stored = open(id);
      if (isNew || stored) seal(id, applyChange(isNew ? undefined : stored!.data, session.change), ttlSeconds);
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
