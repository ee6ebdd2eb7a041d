/**
 * The engine contract's tests of the `flushUnread` capability (the UnreadFlush object): the flush of a
 * request that wrote keys without reading the session. Registered by engineContract.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SessionChange, StoredEngine, UnreadExpiry } from '../../session/engine.ts';
import { META_KEY } from '../../session/session-meta.ts';
import { capability } from './access.ts';

/** engineContract's way to register one test that needs a capability. */
export type RegisterContract = (name: string, body: (engine: StoredEngine) => Promise<void>, needs: 'flushUnread') => void;

const TTL = 60;
const newId = () => randomBytes(24).toString('base64url');
const expiry = (more: Partial<UnreadExpiry> = {}): UnreadExpiry => ({ idle: TTL, absolute: undefined, maxSize: Infinity, writtenAt: Date.now(), ...more });
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A change of an existing session: `set` as key -> value, `deleted` keys. */
function change(set: Record<string, unknown>, deleted: string[] = [], isNew = false): SessionChange {
  const entries = Object.entries(set).map(([key, value]) => [key, JSON.stringify(value)] as [string, string]);
  return { isNew, cleared: false, set: new Map(entries), deleted: new Set(deleted), incremented: new Map(), pushed: new Map() };
}

/** Stores a new session holding `data` (meta included, as the factory stores it). */
async function store(engine: StoredEngine, data: Record<string, unknown>): Promise<string> {
  const id = newId();
  await engine.store.flush(id, change(data, [], true), TTL);
  return id;
}

export function unreadContract(contract: RegisterContract): void {
  contract('flushUnread :: applies the change to what is stored; answers the own lifetime', async engine => {
    const id = await store(engine, { [META_KEY]: { created: Date.now() }, keep: 1, gone: 2, user: 'ann' });
    assert.deepEqual(await capability(engine, 'flushUnread').flushUnread(id, change({ user: 'bob', added: [1] }, ['gone']), expiry()), { lifetime: undefined });
    const stored = (await engine.store.retrieve(id))?.data;
    assert.deepEqual({ ...stored, [META_KEY]: undefined }, { [META_KEY]: undefined, keep: 1, user: 'bob', added: [1] });
  }, 'flushUnread');

  contract('flushUnread :: an unknown id stores nothing and answers undefined', async engine => {
    const id = newId();
    assert.equal(await capability(engine, 'flushUnread').flushUnread(id, change({ user: 'eve' }), expiry()), undefined);
    assert.equal(await engine.store.retrieve(id), undefined, 'the client-supplied id was not adopted');
  }, 'flushUnread');

  contract('flushUnread :: a remembered session answers its lifetime', async engine => {
    const id = await store(engine, { [META_KEY]: { created: Date.now(), remember: 86_400 } });
    assert.deepEqual(await capability(engine, 'flushUnread').flushUnread(id, change({ seen: true }), expiry()), { lifetime: 86_400 });
  }, 'flushUnread');

  contract('flushUnread :: past absolute_duration since created, the session is unknown and unchanged', async engine => {
    const id = await store(engine, { [META_KEY]: { created: Date.now() - 20_000 }, user: 'ann' });
    assert.equal(await capability(engine, 'flushUnread').flushUnread(id, change({ user: 'mallory' }), expiry({ absolute: 10 })), undefined);
    assert.equal((await engine.store.retrieve(id))?.data['user'], 'ann', 'nothing was written');
    assert.deepEqual(await capability(engine, 'flushUnread').flushUnread(id, change({ user: 'bob' }), expiry({ absolute: 60 })), { lifetime: undefined }, 'within it: stored');
  }, 'flushUnread');

  contract('flushUnread :: a merged result over maxSize is refused with 413, nothing stored', async engine => {
    const id = await store(engine, { [META_KEY]: { created: Date.now() }, pad: 'x'.repeat(600) });
    await assert.rejects(capability(engine, 'flushUnread').flushUnread(id, change({ more: 'y'.repeat(600) }), expiry({ maxSize: 1000 })), (error: { status?: number }) => error.status === 413);
    assert.equal((await engine.store.retrieve(id))?.data['more'], undefined);
  }, 'flushUnread');

  contract('flushUnread :: after changeId, a write made before it lands under the new id; one made after it does not (fixation)', async engine => {
    const changer = engine.changeId;
    if (!changer) return;
    const oldId = await store(engine, { [META_KEY]: { created: Date.now() }, user: 'ann' });
    const before = Date.now();
    await sleep(5);
    const freshId = newId();
    await changer.changeId(oldId, freshId);
    await sleep(5);
    // Whoever still holds the old id and writes now never held the session: as a read would
    // find it unknown, so must this write.
    assert.equal(await capability(engine, 'flushUnread').flushUnread(oldId, change({ planted: 'by the old id' }), expiry({ writtenAt: Date.now() })), undefined);
    assert.equal((await engine.store.retrieve(freshId))?.data['planted'], undefined, 'a write made after the id changed did not reach the new id');
    // A request that wrote before the change (it held the id then) and commits after it.
    assert.deepEqual(await capability(engine, 'flushUnread').flushUnread(oldId, change({ cart: 3 }), expiry({ writtenAt: before })), { lifetime: undefined });
    assert.equal((await engine.store.retrieve(freshId))?.data['cart'], 3);
    assert.equal(await engine.store.retrieve(oldId), undefined, 'the old id stays unknown');
  }, 'flushUnread');
}
