/**
 * The engine contract suite itself: it runs with any runner's test function, reports the tests of
 * an undeclared capability as skipped (with the reason), and fails a capability that is declared
 * but missing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { StoredEngine } from '../../src/session/engine.ts';
import { engineContract, type ContractOptions } from '../../src/testing/engine-contract.ts';
import { memoryEngine } from '../support/engine-calls.ts';

interface Registered {
  name: string;
  skip: string | false;
  run: () => Promise<void>;
}

/** The tests engineContract registers for `options`, through a recording TestFunction. */
function registered(options: ContractOptions): Registered[] {
  const tests: Registered[] = [];
  engineContract((name, { skip }, run) => tests.push({ name, skip, run }), options);
  return tests;
}

/** A Memory engine without changeId, as a minimal third-party engine might be: a store alone. */
function withoutChangeId(): StoredEngine {
  const inner = memoryEngine();
  return {
    store: {
      retrieve: id => inner.retrieve(id),
      flush: (id, change, ttl) => inner.flush(id, change, ttl),
      destroy: id => inner.destroy(id),
      sessions: () => inner.sessions(),
    },
    close: () => inner.close(),
  };
}

const contract = suite('engineContract()');

contract('an undeclared changeId :: its tests are skipped with the reason, the rest run and pass', async () => {
  const tests = registered({ name: 'Minimal', setup: () => ({ engine: withoutChangeId() }) });
  const skipped = tests.filter(t => t.skip !== false);
  assert.equal(skipped.map(t => t.name), [
    'engine contract :: Minimal :: take :: returns and removes one key; of concurrent takes exactly one gets it',
    'engine contract :: Minimal :: changeId :: data moves to the new id, the old id is gone',
    'engine contract :: Minimal :: changeId :: a write racing it lands under the new id (or rejects), never nowhere; the old id stays unknown',
    'engine contract :: Minimal :: changeId :: an unknown old id creates nothing',
    ...[
      'applies the change to what is stored; answers the own lifetime',
      'an unknown id stores nothing and answers undefined',
      'a remembered session answers its lifetime',
      'past absolute_duration since created, the session is unknown and unchanged',
      'a merged result over maxSize is refused with 413, nothing stored',
      'after changeId, a write made before it lands under the new id; one made after it does not (fixation)',
    ].map(name => `engine contract :: Minimal :: flushUnread :: ${name}`),
    ...[
      'the data moves to the new id with this request\'s change; the old id is gone',
      'a write under the old id before the move is kept; one after it lands under the new id',
      'an old id ended meanwhile stays ended: nothing is stored under the new id',
      'with owners, the session stays in its owner\'s index under the new id, and a login moves it to the new owner\'s',
    ].map(name => `engine contract :: Minimal :: changeIdAtFlush :: ${name}`),
    'engine contract :: Minimal :: owners :: a login joins its owner\'s list with its data; other owners do not see it',
    'engine contract :: Minimal :: owners :: a login as someone else moves the session to the new owner\'s list',
    'engine contract :: Minimal :: owners :: destroy(id, owner) leaves the list; changeId(old, new, owner) keeps it under the new id',
    'engine contract :: Minimal :: owners :: destroyOwned ends every session of the owner but `except`, and says how many',
    'engine contract :: Minimal :: owners :: an expired session drops out of the list',
    'engine contract :: Minimal :: renewal :: the old key reads the renewed session with the forward for the grace window, then is unknown',
    'engine contract :: Minimal :: renewal :: an old key that is already renewed or unknown answers false and creates nothing',
  ]);
  for (const t of skipped) assert.match(String(t.skip), /does not declare the (changeId|changeIdAtFlush|take|flushUnread|owners|renewal) capability/);
  const quick = tests.filter(t => t.skip === false && !t.name.includes('expiry'));
  assert.ok(quick.length >= 8, `${quick.length} tests run`);
  for (const t of quick) await t.run();
});

contract('a declared changeId the engine lacks :: those tests fail', async () => {
  const tests = registered({ name: 'Liar', setup: () => ({ engine: withoutChangeId() }), capabilities: { changeId: true } });
  const changeIdTests = tests.filter(t => t.name.includes(':: changeId ::'));
  assert.is(changeIdTests.length, 3);
  for (const t of changeIdTests) {
    assert.is(t.skip, false);
    let failure: unknown;
    await t.run().catch(error => (failure = error));
    assert.match(String(failure), /declares changeId but has no changeId method/);
  }
});

contract('a declared owners capability the engine lacks :: those tests fail, naming the missing methods', async () => {
  const tests = registered({ name: 'Liar', setup: () => ({ engine: withoutChangeId() }), capabilities: { owners: true } });
  const ownerTests = tests.filter(t => t.name.includes(':: owners ::') && !t.name.includes('expired'));
  assert.is(ownerTests.length, 4);
  for (const t of ownerTests) {
    let failure: unknown;
    await t.run().catch(error => (failure = error));
    assert.match(String(failure), /declares owners but has no ownedSessions and destroyOwned methods/);
  }
});

contract('hashedKeys :: runs by default, and passes on an engine that treats ids as opaque strings', async () => {
  const test = registered({ name: 'Minimal', setup: () => ({ engine: withoutChangeId() }) }).find(t => t.name.includes(':: hashedKeys ::'))!;
  assert.is(test.skip, false);
  await test.run();
});

contract('skip :: every test is reported skipped with the given reason', () => {
  const tests = registered({ name: 'Absent', setup: () => ({ engine: withoutChangeId() }), skip: 'its server is not installed' });
  assert.ok(tests.length > 10);
  assert.ok(tests.every(t => t.skip === 'its server is not installed'));
});

contract('a broken engine :: the contract catches it', async () => {
  const inner = withoutChangeId();
  const { store } = inner;
  // Overwrites instead of applying the change: the merge test must fail.
  const overwriting: StoredEngine = { ...inner, store: { ...store, flush: async (id, change, ttl) => { await store.destroy(id); await store.flush(id, { ...change, isNew: true }, ttl); } } };
  const merge = registered({ name: 'Broken', setup: () => ({ engine: overwriting }) })
    .find(t => t.name.endsWith('a change is applied to what is stored now, not over it'))!;
  let failure: unknown;
  await merge.run().catch(error => (failure = error));
  assert.ok(failure instanceof Error, 'an engine that overwrites fails the contract');
});

contract.run();
