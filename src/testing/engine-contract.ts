/**
 * The contract suite, exported by `quickstep/engine` (and its old alias
 * `quickstep/engine-contract`): the one suite every session engine passes — Memory and Redis
 * here, third-party engines in their own repositories. It depends on no test runner: give it
 * your runner's `test` function. With node:test:
 * ```ts
 * import { test } from 'node:test';
 * import { engineContract } from 'quickstep/engine';
 * engineContract(test, {
 *   name: 'MyEngine',
 *   setup: ({ sessionDuration }) => {
 *     const store = new MyStore(sessionDuration);
 *     return { engine: { store, changeId: store }, cleanup: () => ... };
 *   },
 *   capabilities: { changeId: true },
 * });
 * ```
 * With uvu: `engineContract(uvuTest(suite('MyEngine')), ...)`, then run the suite.
 *
 * `setup` is called for each test, so every test starts from an empty store; `cleanup` (if
 * given) and the engine's `close` after it. `engine` is what the engine definition's `create`
 * gives (engine.ts): a store with its capability objects, or a sealer. `sessionDuration` is the
 * EngineContext value the engine must use: the sliding expiry a read refreshes to. The suite's
 * flushes pass the same value as their ttl, as the SessionFactory does.
 *
 * Optional capabilities are declared, not guessed: the tests of a capability the engine does not
 * declare are reported as skipped with the reason (never counted as passed), and a declared one
 * whose object the engine does not give fails. A sealer (SessionSealer: no server state) is read
 * and written through a jar of its cookies (contract/access.ts); it declares none of the store's
 * capabilities (`serverState: false`, `listing: false`, `merge: false`).
 */
// The published .d.ts uses Node's types: load @types/node for consumers with "types": [].
/// <reference types="node" preserve="true" />
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SessionEngine, StoredEngine } from '../session/engine.ts';
import { Session } from '../session/session.ts';
import { ownerContract } from './contract/owners.ts';
import { renewalContract } from './contract/renewal.ts';
import { unreadContract } from './contract/unread.ts';
import { movedFlushContract } from './contract/moved-flush.ts';
import { capability, CAPABILITY_METHODS, engineAccess, type CapabilityObject, type EngineAccess } from './contract/access.ts';

export interface ContractSubject {
  /** What the engine definition's `create` gives: `{ store, ...capabilities }` or `{ sealer }`. */
  engine: SessionEngine;
  cleanup?(): Promise<void> | void;
}

/**
 * The optional parts of the engine contract. changeId, take, owners, flushUnread and renewal are
 * the capability objects of a StoredEngine (engine.ts), under the same names; the rest say what
 * the engine's kind implies.
 */
export interface EngineCapabilities {
  /** The `changeId` object (IdChange): `changeId(oldKey, newKey)` moves a session's data in the store. */
  changeId?: boolean;
  /** The `changeIdAtFlush` object (IdChangeAtFlush): the move and the flush after it in one step (contract/moved-flush.ts). */
  changeIdAtFlush?: boolean;
  /** `sessions()` lists what is stored (an engine with no server state cannot). Default true. */
  listing?: boolean;
  /** The `take` object (AtomicTake): removes one key and returns it atomically (flash messages shown once). */
  take?: boolean;
  /**
   * The `owners` object (OwnerIndex) behind login / userSessions / destroyUserSessions: the
   * store's flush applies `change.owner`, `destroy` and `changeId` take the owner,
   * `ownedSessions` and `destroyOwned`.
   */
  owners?: boolean;
  /**
   * The `renewal` object (IdRenewal): renewId moves a session and its old key reads it, with the
   * forward, for the grace window (contract/renewal.ts).
   */
  renewal?: boolean;
  /** Works with the 43-character store keys `hash_ids` gives it (listing included). Default: serverState. */
  hashedKeys?: boolean;
  /** The `flushUnread` object (UnreadFlush): stores a write made without a read (contract/unread.ts). */
  flushUnread?: boolean;
  /** Concurrent writes to one session merge (the change log applied to what is stored). Default true. */
  merge?: boolean;
  /** A store (not a sealer): destroy revokes every copy, a new session claims its id. Default true. */
  serverState?: boolean;
}

/** The capability a contract test checks, or all of those it needs. */
type Need = keyof EngineCapabilities | readonly (keyof EngineCapabilities)[];

export interface ContractOptions {
  /** Shown in every test name: `engine contract :: <name> :: ...`. */
  name: string;
  setup(context: { sessionDuration: number }): Promise<ContractSubject> | ContractSubject;
  capabilities?: EngineCapabilities;
  /** Report every test as skipped with this reason (e.g. the engine's server is not installed). */
  skip?: string | false;
}

/**
 * A runner's test function, as node:test's `test(name, { skip }, fn)` is: `skip` is false or the
 * reason to skip.
 */
export type TestFunction = (name: string, options: { skip: string | false }, fn: () => Promise<void>) => unknown;

/** uvu's suite as a TestFunction (uvu shows skipped tests without their reason). */
export function uvuTest(suite: { (name: string, fn: () => Promise<void>): void; skip(name: string, fn: () => Promise<void>): void }): TestFunction {
  return (name, options, fn) => (options.skip === false ? suite(name, fn) : suite.skip(name, fn));
}

const TTL = 60;

/** A fresh, valid session id. */
const newId = () => randomBytes(24).toString('base64url');

/** How each engine under test is read and written (directly, or through its cookies). */
const accesses = new WeakMap<SessionEngine, EngineAccess>();

/** Flushes what `edit` does to a session with `id` (new or existing) and returns the session. */
const write = (engine: SessionEngine, id: string, isNew: boolean, edit: (s: Session) => void, ttl = TTL) => accesses.get(engine)!.write(id, isNew, edit, ttl);
const read = (engine: SessionEngine, id: string) => accesses.get(engine)!.read(id);
const destroy = (engine: SessionEngine, id: string) => accesses.get(engine)!.destroy(id);

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export function engineContract(test: TestFunction, options: ContractOptions): void {
  const capabilities = { changeId: false, changeIdAtFlush: false, listing: true, take: false, flushUnread: false, merge: true, serverState: true, owners: false, renewal: false, hashedKeys: options.capabilities?.serverState ?? true, ...options.capabilities };
  const prefix = `engine contract :: ${options.name} :: `;

  /** Runs `body` on a fresh engine whose sessions live `sessionDuration` without use. */
  async function withEngine(sessionDuration: number, body: (engine: SessionEngine) => Promise<void>): Promise<void> {
    const subject = await options.setup({ sessionDuration });
    accesses.set(subject.engine, engineAccess(subject.engine, sessionDuration));
    try {
      await body(subject.engine);
    } finally {
      await subject.cleanup?.();
      await subject.engine.close?.();
    }
  }

  /** Registers a test; `needs` names the capabilities it checks, skipped when one is not declared. */
  function contract(name: string, body: (engine: SessionEngine) => Promise<void>, needs?: Need, sessionDuration = TTL): void {
    const missing = (typeof needs === 'string' ? [needs] : needs ?? []).find(need => !capabilities[need]);
    const skip = options.skip || (missing === undefined ? false : `the engine does not declare the ${missing} capability`);
    test(prefix + name, { skip }, () => withEngine(sessionDuration, body));
  }

  /**
   * Registers a test of a store (every capability but the ones all engines have): it fails when
   * the engine is a sealer, or lacks the object of the capability it needs.
   */
  function storeContract(name: string, body: (engine: StoredEngine) => Promise<void>, needs: Need, sessionDuration = TTL): void {
    contract(name, async engine => {
      const all = typeof needs === 'string' ? [needs] : needs;
      if (!('store' in engine)) assert.fail(`the engine declares ${all.join(' and ')} but is a sealer: it has no store`);
      for (const need of all) if (Object.hasOwn(CAPABILITY_METHODS, need)) capability(engine, need as CapabilityObject);
      await body(engine);
    }, needs, sessionDuration);
  }

  contract('retrieve :: an unknown id is undefined, not an error', async engine => {
    assert.equal(await read(engine, newId()), undefined);
  });

  contract('flush :: JSON values round-trip exactly', async engine => {
    const id = newId();
    const values = {
      text: 'héllo "quoted" {brace} \\ back\nline ✓',
      zero: 0, negative: -17, big: 2 ** 53 - 1, tenth: 0.1, tiny: 1e-7, huge: 1.7976931348623157e308,
      yes: true, no: false, nothing: null,
      empty_list: [], empty_object: {}, nested: { list: [1, 'two', { three: [3] }], deep: { a: { b: {} } } },
      'dotted.key': 1, 'key with "quotes"': 2, '': 'empty key',
    };
    await write(engine, id, true, s => {
      for (const [k, v] of Object.entries(values)) s.set(k, v);
      s.set('__proto__', 'own key');
    });
    const stored = (await read(engine, id)) ?? {};
    assert.deepEqual(Object.fromEntries(Object.entries(stored).filter(([key]) => key !== '__proto__')), values);
    assert.equal(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value, 'own key', 'a "__proto__" key is an ordinary key');
  });

  storeContract('flush :: a change is applied to what is stored now, not over it', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1));
    // Two requests load the same session, each changes one key, they flush one after the other.
    const first = new Session(id, { a: 1 }, false);
    const second = new Session(id, { a: 1 }, false);
    first.set('b', 'from first');
    second.set('c', 'from second');
    second.delete('a');
    await engine.store.flush(id, first.change, TTL);
    await engine.store.flush(id, second.change, TTL);
    assert.deepEqual(await read(engine, id), { b: 'from first', c: 'from second' });
  }, 'merge');

  contract('flush :: concurrent increments all count', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('n', 5));
    await Promise.all(Array.from({ length: 50 }, () => write(engine, id, false, s => s.increment('n'))));
    await write(engine, id, false, s => s.increment('missing', 2.5));
    assert.deepEqual(await read(engine, id), { n: 55, missing: 2.5 });
  }, 'merge');

  contract('flush :: increment of a non-number stored value starts from 0', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('n', 'text'));
    await write(engine, id, false, s => s.increment('n', 3));
    assert.deepEqual(await read(engine, id), { n: 3 });
  });

  contract('flush :: clear drops every stored key, then applies what follows', async engine => {
    const id = newId();
    await write(engine, id, true, s => { s.set('a', 1); s.set('b', 2); });
    await write(engine, id, false, s => { s.clear(); s.set('c', 3); });
    assert.deepEqual(await read(engine, id), { c: 3 });
  });

  storeContract('flush :: does not bring back a destroyed session', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('user', 'ann'));
    await engine.store.destroy(id);
    await write(engine, id, false, s => s.set('late', 'write'));
    assert.equal(await engine.store.retrieve(id), undefined);
  }, 'serverState');

  contract('flush :: a new session cannot claim an id that is taken', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('owner', 'first'));
    await assert.rejects(write(engine, id, true, s => s.set('owner', 'second')), 'claiming a taken id must reject');
    assert.deepEqual(await read(engine, id), { owner: 'first' });
  }, 'serverState');

  contract('push :: appends to what is stored now; concurrent pushes all survive; max keeps the last', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.push('log', 'first'));
    await Promise.all(Array.from({ length: 30 }, (_, i) => write(engine, id, false, s => s.push('log', { n: i }))));
    const log = (await read(engine, id))?.log as unknown[];
    assert.equal(log.length, 31, 'every concurrent push is kept');
    assert.equal(log[0], 'first');
    assert.deepEqual(new Set(log.slice(1).map(item => (item as { n: number }).n)), new Set(Array.from({ length: 30 }, (_, i) => i)));
    await write(engine, id, false, s => { s.push('recent', 'a'); s.push('recent', 'b'); });
    await write(engine, id, false, s => { s.push('recent', 'c', { max: 2 }); s.push('log', [1, [2]], { max: 3 }); });
    await write(engine, id, false, s => s.push('text', 'x'));
    const data = await read(engine, id);
    assert.deepEqual(data?.recent, ['b', 'c'], 'max keeps the last items');
    assert.deepEqual((data?.log as unknown[]).at(-1), [1, [2]], 'arrays as items');
    assert.equal((data?.log as unknown[]).length, 3);
    assert.deepEqual(data?.text, ['x']);
  }, 'merge');

  contract('push :: onto a value that is not an array starts a new array', async engine => {
    const id = newId();
    await write(engine, id, true, s => { s.set('n', 5); s.set('o', { a: [1] }); });
    await write(engine, id, false, s => { s.push('n', 1); s.push('o', 2); });
    assert.deepEqual(await read(engine, id), { n: [1], o: [2] });
  });

  storeContract('take :: returns and removes one key; of concurrent takes exactly one gets it', async engine => {
    const id = newId();
    await write(engine, id, true, s => { s.set('flash.notice', 'Welcome back'); s.set('user', 'ann'); });
    const take = capability(engine, 'take');
    const taken = await Promise.all(Array.from({ length: 10 }, () => take.take(id, 'flash.notice')));
    assert.deepEqual(taken.filter(value => value !== undefined), ['"Welcome back"'], 'one take got it, as JSON text');
    assert.deepEqual(await read(engine, id), { user: 'ann' });
    assert.equal(await take.take(id, 'missing'), undefined);
    assert.equal(await take.take(newId(), 'flash.notice'), undefined, 'an unknown session');
  }, 'take');

  contract('lifetime :: the ttl of a flush is the expiry, shorter or longer than session_duration; reads never cut it', async engine => {
    const short = newId();
    const long = newId();
    await write(engine, short, true, s => s.set('a', 1), 1);
    await write(engine, long, true, s => s.set('a', 1), 4);
    await sleep(1300);
    assert.deepEqual(await read(engine, long), { a: 1 }, 'a read after session_duration (1 s) finds a 4 s session');
    await sleep(1300);
    assert.equal(await read(engine, short), undefined, 'a 1 s session is gone after 2.6 s');
    assert.deepEqual(await read(engine, long), { a: 1 }, 'the read at 1.3 s did not cut the 4 s ttl to 1 s');
  }, undefined, 1);

  contract('destroy :: the session is gone; an unknown id is fine', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1));
    await destroy(engine, id);
    assert.equal(await read(engine, id), undefined);
    await destroy(engine, newId());
  });

  storeContract('changeId :: data moves to the new id, the old id is gone', async engine => {
    const changeId = capability(engine, 'changeId');
    const oldId = newId();
    const freshId = newId();
    await write(engine, oldId, true, s => s.set('user', 'ann'));
    await changeId.changeId(oldId, freshId);
    assert.equal(await engine.store.retrieve(oldId), undefined);
    assert.deepEqual(await read(engine, freshId), { user: 'ann' });
    await write(engine, freshId, false, s => s.increment('visits'));
    assert.deepEqual(await read(engine, freshId), { user: 'ann', visits: 1 });
  }, 'changeId');

  storeContract('changeId :: a write racing it lands under the new id (or rejects), never nowhere; the old id stays unknown', async engine => {
    const changeId = capability(engine, 'changeId');
    const oldId = newId();
    const freshId = newId();
    await write(engine, oldId, true, s => s.set('n', 1));
    // A request read the session under the old id; meanwhile the id changed; then it flushes.
    const late = new Session(oldId, { n: 1 }, false);
    late.increment('n');
    await changeId.changeId(oldId, freshId);
    let rejected = false;
    await engine.store.flush(oldId, late.change, TTL).catch(() => (rejected = true));
    if (!rejected) assert.deepEqual(await read(engine, freshId), { n: 2 }, 'an acknowledged write is stored where the session now lives');
    assert.equal(await engine.store.retrieve(oldId), undefined, 'the old id gives nobody the session');
  }, 'changeId');

  storeContract('changeId :: an unknown old id creates nothing', async engine => {
    const changeId = capability(engine, 'changeId');
    const freshId = newId();
    await changeId.changeId(newId(), freshId);
    assert.equal(await engine.store.retrieve(freshId), undefined);
  }, 'changeId');

  unreadContract(storeContract);
  movedFlushContract(storeContract);

  contract('expiry :: a session expires after session_duration without use', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1), 1);
    assert.deepEqual(await read(engine, id), { a: 1 });
    await sleep(2100);
    assert.equal(await read(engine, id), undefined);
  }, undefined, 1);

  contract('expiry :: reads and writes slide the expiry forward', async engine => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1), 2);
    await sleep(1200);
    await write(engine, id, false, s => s.set('b', 2), 2);
    await sleep(1200);
    assert.deepEqual(await read(engine, id), { a: 1, b: 2 }, 'alive 2.4 s after creation, 1.2 s after the write');
    await sleep(1200);
    assert.deepEqual(await read(engine, id), { a: 1, b: 2 }, 'alive 1.2 s after the read');
  }, undefined, 2);

  storeContract('sessions :: lists every stored id', async engine => {
    const ids = Array.from({ length: 25 }, newId);
    await Promise.all(ids.map(id => write(engine, id, true, s => s.set('x', 1))));
    await engine.store.destroy(ids[0]!);
    const listed: string[] = [];
    for await (const id of engine.store.sessions()) listed.push(id);
    assert.deepEqual(listed.sort(), ids.slice(1).sort());
  }, 'listing');

  ownerContract(storeContract);
  renewalContract(storeContract);
}
