/**
 * The engine contract's tests of the owner index (the `owners` object, OwnerIndex:
 * `ownedSessions`, `destroyOwned`; and the store's flush of `change.owner`, `destroy(key, owner)`,
 * `changeId(old, new, owner)`) and of
 * hashed store keys (capability `hashedKeys`: the 43-character keys `hash_ids` gives engines).
 * Registered by engineContract (engine-contract.ts), which declares and skips them.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { StoredEngine } from '../../session/engine.ts';
import { Session } from '../../session/session.ts';
import { hashedKey } from '../../session/store-key.ts';
import { capability } from './access.ts';

/** engineContract's registrar of a store's test: the capability it needs, the session_duration it runs with. */
export type Register = (name: string, body: (engine: StoredEngine) => Promise<void>, needs: 'owners' | 'hashedKeys', sessionDuration?: number) => void;

const TTL = 60;
const newId = () => randomBytes(24).toString('base64url');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Flushes a session that `edit` changes (a login: `s.setOwner(user)`). */
async function write(engine: StoredEngine, id: string, isNew: boolean, edit: (s: Session) => void, ttl = TTL): Promise<void> {
  const session = new Session(id, {}, isNew);
  edit(session);
  await engine.store.flush(id, session.change, ttl);
}

/** The ids in `owner`'s index, sorted. */
async function owned(engine: StoredEngine, owner: string): Promise<string[]> {
  return (await capability(engine, 'owners').ownedSessions(owner)).map(s => s.id).sort();
}

export function ownerContract(contract: Register): void {
  contract('owners :: a login joins its owner\'s list with its data; other owners do not see it', async engine => {
    const [a, b, c] = [newId(), newId(), newId()];
    await write(engine, a, true, s => { s.set('n', 1); s.setOwner('ann'); });
    await write(engine, b, true, s => s.setOwner('ann'));
    await write(engine, c, true, s => s.setOwner('bob'));
    await write(engine, newId(), true, s => s.set('anonymous', true));
    assert.deepEqual(await owned(engine, 'ann'), [a, b].sort());
    assert.deepEqual(await owned(engine, 'bob'), [c]);
    assert.deepEqual(await owned(engine, 'nobody'), []);
    const first = (await capability(engine, 'owners').ownedSessions('ann')).find(s => s.id === a)!;
    assert.equal(first.record.data.n, 1, 'the record is the stored data');
    await write(engine, a, false, s => s.increment('n'));
    assert.deepEqual(await owned(engine, 'ann'), [a, b].sort(), 'a plain write keeps it in the list');
  }, 'owners');

  contract('owners :: a login as someone else moves the session to the new owner\'s list', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.setOwner('ann'));
    const again = new Session(id, {}, false, Infinity, undefined, { created: Date.now(), owner: 'ann' });
    again.setOwner('bob');
    assert.deepEqual(again.change.owner, { previous: 'ann', next: 'bob' });
    await engine.store.flush(id, again.change, TTL);
    assert.deepEqual(await owned(engine, 'ann'), []);
    assert.deepEqual(await owned(engine, 'bob'), [id]);
  }, 'owners');

  contract('owners :: destroy(id, owner) leaves the list; changeId(old, new, owner) keeps it under the new id', async engine => {
    const [gone, moving, fresh] = [newId(), newId(), newId()];
    await write(engine, gone, true, s => s.setOwner('ann'));
    await write(engine, moving, true, s => s.setOwner('ann'));
    await engine.store.destroy(gone, 'ann');
    assert.deepEqual(await owned(engine, 'ann'), [moving]);
    if (engine.changeId) {
      await engine.changeId.changeId(moving, fresh, 'ann');
      assert.deepEqual(await owned(engine, 'ann'), [fresh]);
      await write(engine, fresh, false, s => s.set('after', 1));
      assert.equal((await capability(engine, 'owners').ownedSessions('ann'))[0]?.record.data.after, 1);
    }
  }, 'owners');

  contract('owners :: destroyOwned ends every session of the owner but `except`, and says how many', async engine => {
    const ids = [newId(), newId(), newId()];
    const other = newId();
    for (const id of ids) await write(engine, id, true, s => s.setOwner('ann'));
    await write(engine, other, true, s => s.setOwner('bob'));
    assert.equal(await capability(engine, 'owners').destroyOwned('ann', ids[0]), 2);
    assert.deepEqual(await owned(engine, 'ann'), [ids[0]]);
    assert.equal(await engine.store.retrieve(ids[1]!), undefined, 'an ended session is gone from the store');
    assert.ok(await engine.store.retrieve(ids[0]!), 'the excepted session lives');
    assert.ok(await engine.store.retrieve(other), 'another owner\'s session lives');
    assert.equal(await capability(engine, 'owners').destroyOwned('ann'), 1, 'without except, all of them');
    assert.equal(await capability(engine, 'owners').destroyOwned('ann'), 0);
  }, 'owners');

  contract('owners :: an expired session drops out of the list', async engine => {
    const [short, long] = [newId(), newId()];
    await write(engine, short, true, s => s.setOwner('ann'), 1);
    await write(engine, long, true, s => s.setOwner('ann'), 5);
    await sleep(2100);
    assert.deepEqual(await owned(engine, 'ann'), [long]);
    assert.equal(await capability(engine, 'owners').destroyOwned('ann'), 1, 'an expired session is not counted as ended');
  }, 'owners', 1);

  contract('hashedKeys :: 43-character store keys (hash_ids) are stored, read, changed and listed like ids', async engine => {
    const [a, b] = [hashedKey(newId()), hashedKey(newId())];
    assert.equal(a.length, 43);
    await write(engine, a, true, s => s.set('user', 'ann'));
    assert.deepEqual((await engine.store.retrieve(a))?.data, { user: 'ann' });
    if (engine.changeId) {
      await engine.changeId.changeId(a, b);
      assert.equal(await engine.store.retrieve(a), undefined);
    } else {
      await write(engine, b, true, s => s.set('user', 'ann'));
      await engine.store.destroy(a);
    }
    const listed: string[] = [];
    for await (const id of engine.store.sessions()) listed.push(id);
    assert.deepEqual(listed, [b]);
  }, 'hashedKeys');
}
