/**
 * The engine contract's tests of the `renewal` capability (IdRenewal: renewId, and a retrieve of
 * the old key that follows it for the grace window; docs/design.md#renewal-with-a-grace-window).
 * Registered by engineContract (engine-contract.ts), which declares and skips them.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { StoredEngine } from '../../session/engine.ts';
import { Session } from '../../session/session.ts';
import { capability } from './access.ts';

/** engineContract's registrar of a store's test needing `renewal`. */
export type Register = (name: string, body: (engine: StoredEngine) => Promise<void>, needs: 'renewal') => void;

const TTL = 60;
const newId = () => randomBytes(24).toString('base64url');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

async function write(engine: StoredEngine, id: string, isNew: boolean, edit: (s: Session) => void): Promise<void> {
  const session = new Session(id, {}, isNew);
  edit(session);
  await engine.store.flush(id, session.change, TTL);
}

/** Registers the renewal tests with `register`. */
export function renewalContract(register: Register): void {
  register('renewal :: the old key reads the renewed session with the forward for the grace window, then is unknown', async engine => {
    const renewal = capability(engine, 'renewal');
    const [oldId, freshId] = [newId(), newId()];
    await write(engine, oldId, true, s => s.set('user', 'ann'));
    assert.equal(await renewal.renewId(oldId, freshId, undefined, { seconds: 1, forward: 'sealed-forward' }), true);
    const through = await engine.store.retrieve(oldId);
    assert.deepEqual(through?.data, { user: 'ann' }, 'the old key reaches the session within the grace window');
    assert.equal(through?.renewedTo, 'sealed-forward');
    assert.equal((await engine.store.retrieve(freshId))?.renewedTo, undefined, 'the new key reads as itself');
    // A write under the old key within the window lands in the renewed session.
    const late = new Session(oldId, { user: 'ann' }, false);
    late.set('late', true);
    await engine.store.flush(oldId, late.change, TTL);
    assert.deepEqual((await engine.store.retrieve(freshId))?.data, { user: 'ann', late: true });
    await sleep(1100);
    assert.equal(await engine.store.retrieve(oldId), undefined, 'after the grace window the old key is unknown');
  }, 'renewal');

  register('renewal :: an old key that is already renewed or unknown answers false and creates nothing', async engine => {
    const renewal = capability(engine, 'renewal');
    const [oldId, first, second] = [newId(), newId(), newId()];
    await write(engine, oldId, true, s => s.set('n', 1));
    assert.equal(await renewal.renewId(oldId, first, undefined, { seconds: 2, forward: 'f' }), true);
    assert.equal(await renewal.renewId(oldId, second, undefined, { seconds: 2, forward: 'g' }), false, 'a concurrent renewal loses');
    assert.equal(await engine.store.retrieve(second), undefined);
    assert.equal(await renewal.renewId(newId(), second, undefined, { seconds: 2, forward: 'h' }), false);
    assert.equal(await engine.store.retrieve(second), undefined);
    assert.deepEqual((await engine.store.retrieve(first))?.data, { n: 1 });
  }, 'renewal');
}
