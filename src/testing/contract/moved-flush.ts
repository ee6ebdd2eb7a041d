/**
 * The engine contract's tests of the `changeIdAtFlush` capability (IdChangeAtFlush: changeId's
 * move and the flush after it in one step of the store). Registered by engineContract
 * (engine-contract.ts), which declares and skips them.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { StoredEngine } from '../../session/engine.ts';
import { Session } from '../../session/session.ts';
import { capability } from './access.ts';

/** engineContract's registrar of a store's test needing `changeIdAtFlush`. */
export type Register = (name: string, body: (engine: StoredEngine) => Promise<void>, needs: 'changeIdAtFlush' | readonly ['changeIdAtFlush', 'owners']) => void;

const TTL = 60;
const newId = () => randomBytes(24).toString('base64url');

async function write(engine: StoredEngine, id: string, isNew: boolean, edit: (s: Session) => void): Promise<void> {
  const session = new Session(id, {}, isNew);
  edit(session);
  await engine.store.flush(id, session.change, TTL);
}

/** A session as a request read it under `id`, with `data` stored and `owner` its owner. */
const readAs = (id: string, data: Record<string, unknown>, owner?: string): Session =>
  new Session(id, data, false, Infinity, undefined, { created: Date.now(), ...(owner === undefined ? {} : { owner }) });

/** The ids in `owner`'s index, sorted. */
async function owned(engine: StoredEngine, owner: string): Promise<string[]> {
  return (await capability(engine, 'owners').ownedSessions(owner)).map(s => s.id).sort();
}

export function movedFlushContract(contract: Register): void {
  contract('changeIdAtFlush :: the data moves to the new id with this request\'s change; the old id is gone', async engine => {
    const atFlush = capability(engine, 'changeIdAtFlush');
    const [oldId, freshId] = [newId(), newId()];
    await write(engine, oldId, true, s => s.set('user', 'ann'));
    const session = readAs(oldId, { user: 'ann' });
    session.increment('visits');
    await atFlush.flushMoved(oldId, freshId, session.change, TTL, Infinity);
    assert.equal(await engine.store.retrieve(oldId), undefined, 'the old id gives nobody the session');
    assert.deepEqual((await engine.store.retrieve(freshId))?.data, { user: 'ann', visits: 1 });
  }, 'changeIdAtFlush');

  contract('changeIdAtFlush :: a write under the old id before the move is kept; one after it lands under the new id', async engine => {
    const atFlush = capability(engine, 'changeIdAtFlush');
    const [oldId, freshId] = [newId(), newId()];
    await write(engine, oldId, true, s => s.set('n', 1));
    const mover = readAs(oldId, { n: 1 });
    mover.set('moved', true);
    // Another request on the same session flushes before the move, a third after it.
    const before = readAs(oldId, { n: 1 });
    before.increment('n');
    await engine.store.flush(oldId, before.change, TTL);
    await atFlush.flushMoved(oldId, freshId, mover.change, TTL, Infinity);
    const after = readAs(oldId, { n: 2 });
    after.increment('n');
    let rejected = false;
    await engine.store.flush(oldId, after.change, TTL).catch(() => (rejected = true));
    assert.deepEqual((await engine.store.retrieve(freshId))?.data, { n: rejected ? 2 : 3, moved: true });
    assert.equal(await engine.store.retrieve(oldId), undefined);
  }, 'changeIdAtFlush');

  contract('changeIdAtFlush :: an old id ended meanwhile stays ended: nothing is stored under the new id', async engine => {
    const atFlush = capability(engine, 'changeIdAtFlush');
    const [oldId, freshId] = [newId(), newId()];
    await write(engine, oldId, true, s => s.set('n', 1));
    const session = readAs(oldId, { n: 1 });
    session.increment('n');
    await engine.store.destroy(oldId);
    await atFlush.flushMoved(oldId, freshId, session.change, TTL, Infinity);
    assert.equal(await engine.store.retrieve(freshId), undefined);
  }, 'changeIdAtFlush');

  contract('changeIdAtFlush :: with owners, the session stays in its owner\'s index under the new id, and a login moves it to the new owner\'s', async engine => {
    const atFlush = capability(engine, 'changeIdAtFlush');
    const [anon, anonNew, owned1, owned1New] = [newId(), newId(), newId(), newId()];
    // A login of an anonymous session: the move, and the index joined, in one step.
    await write(engine, anon, true, s => s.set('cart', 1));
    const login = readAs(anon, { cart: 1 });
    login.setOwner('ann');
    await atFlush.flushMoved(anon, anonNew, login.change, TTL, Infinity, undefined);
    assert.deepEqual(await owned(engine, 'ann'), [anonNew]);
    // A new id for an owned session (no login): its index follows the move.
    await write(engine, owned1, true, s => s.setOwner('bob'));
    const renamed = readAs(owned1, {}, 'bob');
    renamed.set('x', 1);
    await atFlush.flushMoved(owned1, owned1New, renamed.change, TTL, Infinity, 'bob');
    assert.deepEqual(await owned(engine, 'bob'), [owned1New]);
    // A login as someone else with the move: out of bob's index, into ann's.
    const relogin = readAs(owned1New, { x: 1 }, 'bob');
    relogin.setOwner('ann');
    const third = newId();
    await atFlush.flushMoved(owned1New, third, relogin.change, TTL, Infinity, 'bob');
    assert.deepEqual(await owned(engine, 'bob'), []);
    assert.deepEqual(await owned(engine, 'ann'), [anonNew, third].sort());
  }, ['changeIdAtFlush', 'owners']);
}
