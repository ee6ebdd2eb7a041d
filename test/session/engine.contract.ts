/**
 * The contract every session engine passes, Memory and Redis here and third-party engines
 * through `quickstep/testing`:
 * ```ts
 * import { engineContract } from 'quickstep/testing';
 * engineContract('MyEngine', async ({ sessionDuration }) => ({ engine: new MyEngine(sessionDuration), cleanup: () => ... }));
 * ```
 * It registers one uvu suite and runs it. `setup` is called before each test, so every test
 * starts from an empty store; `cleanup` (if given) after each. `sessionDuration` is the
 * EngineContext value the engine must use: the sliding expiry a read refreshes to. The suite's
 * flushes pass the same value as their ttl, as the SessionFactory does.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { SessionEngine } from '../../src/session/engine.ts';
import { Session } from '../../src/session/session.ts';

export interface ContractSubject {
  engine: SessionEngine;
  cleanup?(): Promise<void> | void;
}

export interface ContractOptions {
  /** Report every test as skipped (e.g. the engine's server is not installed). */
  skip?: boolean;
}

const TTL = 60;

/** A fresh, valid session id. */
const newId = () => randomBytes(24).toString('base64url');

/** Flushes what `write` does to a session with `id` (new or existing) and returns the session. */
async function write(engine: SessionEngine, id: string, isNew: boolean, edit: (s: Session) => void, ttl = TTL) {
  const session = new Session(id, {}, isNew);
  edit(session);
  await engine.flush(id, session.change, ttl);
  return session;
}

async function read(engine: SessionEngine, id: string) {
  return (await engine.retrieve(id))?.data;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export function engineContract(
  name: string,
  setup: (options: { sessionDuration: number }) => Promise<ContractSubject> | ContractSubject,
  options: ContractOptions = {},
): void {
  const contract = suite<{ subject?: ContractSubject; engine: SessionEngine }>(`engine contract :: ${name}`, {} as never);
  const test = options.skip ? contract.skip : contract;

  contract.before.each(async context => {
    if (options.skip) return;
    context.subject = await setup({ sessionDuration: TTL });
    context.engine = context.subject.engine;
  });
  contract.after.each(async context => {
    await context.subject?.cleanup?.();
    await context.engine?.close?.();
  });

  test('retrieve :: an unknown id is undefined, not an error', async ({ engine }) => {
    assert.is(await engine.retrieve(newId()), undefined);
  });

  test('flush :: JSON values round-trip exactly', async ({ engine }) => {
    const id = newId();
    const values = {
      text: 'héllo "quoted" {brace} \\ back\nline ✓',
      zero: 0, negative: -17, big: 2 ** 53 - 1, tenth: 0.1, tiny: 1e-7, huge: 1.7976931348623157e308,
      yes: true, no: false, nothing: null,
      empty_list: [], empty_object: {}, nested: { list: [1, 'two', { three: [3] }], deep: { a: { b: {} } } },
      '__proto__': 'own key', 'dotted.key': 1, 'key with "quotes"': 2, '': 'empty key',
    };
    await write(engine, id, true, s => {
      for (const [k, v] of Object.entries(values)) s.set(k, v);
    });
    assert.equal(await read(engine, id), values);
  });

  test('flush :: a change is applied to what is stored now, not over it', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1));
    // Two requests load the same session, each changes one key, they flush one after the other.
    const first = new Session(id, { a: 1 }, false);
    const second = new Session(id, { a: 1 }, false);
    first.set('b', 'from first');
    second.set('c', 'from second');
    second.delete('a');
    await engine.flush(id, first.change, TTL);
    await engine.flush(id, second.change, TTL);
    assert.equal(await read(engine, id), { b: 'from first', c: 'from second' });
  });

  test('flush :: concurrent increments all count', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('n', 5));
    await Promise.all(Array.from({ length: 50 }, () => write(engine, id, false, s => s.increment('n'))));
    await write(engine, id, false, s => s.increment('missing', 2.5));
    assert.equal(await read(engine, id), { n: 55, missing: 2.5 });
  });

  test('flush :: increment of a non-number stored value starts from 0', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('n', 'text'));
    await write(engine, id, false, s => s.increment('n', 3));
    assert.equal(await read(engine, id), { n: 3 });
  });

  test('flush :: clear drops every stored key, then applies what follows', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => { s.set('a', 1); s.set('b', 2); });
    await write(engine, id, false, s => { s.clear(); s.set('c', 3); });
    assert.equal(await read(engine, id), { c: 3 });
  });

  test('flush :: does not bring back a destroyed session', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('user', 'ann'));
    await engine.destroy(id);
    await write(engine, id, false, s => s.set('late', 'write'));
    assert.is(await engine.retrieve(id), undefined);
  });

  test('flush :: a new session cannot claim an id that is taken', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('owner', 'first'));
    let failed = false;
    await write(engine, id, true, s => s.set('owner', 'second')).catch(() => (failed = true));
    assert.ok(failed, 'claiming a taken id must reject');
    assert.equal(await read(engine, id), { owner: 'first' });
  });

  test('destroy :: the session is gone; an unknown id is fine', async ({ engine }) => {
    const id = newId();
    await write(engine, id, true, s => s.set('a', 1));
    await engine.destroy(id);
    assert.is(await engine.retrieve(id), undefined);
    await engine.destroy(newId());
  });

  test('changeId :: data moves to the new id, the old id is gone', async ({ engine }) => {
    if (!engine.changeId) return;
    const oldId = newId();
    const freshId = newId();
    await write(engine, oldId, true, s => s.set('user', 'ann'));
    await engine.changeId(oldId, freshId);
    assert.is(await engine.retrieve(oldId), undefined);
    assert.equal(await read(engine, freshId), { user: 'ann' });
    await write(engine, freshId, false, s => s.increment('visits'));
    assert.equal(await read(engine, freshId), { user: 'ann', visits: 1 });
  });

  test('changeId :: an unknown old id creates nothing', async ({ engine }) => {
    if (!engine.changeId) return;
    const freshId = newId();
    await engine.changeId(newId(), freshId);
    assert.is(await engine.retrieve(freshId), undefined);
  });

  /** Runs `body` on a fresh engine whose sessions live `seconds` without use. */
  async function shortLived(seconds: number, body: (engine: SessionEngine) => Promise<void>) {
    const subject = await setup({ sessionDuration: seconds });
    try {
      await body(subject.engine);
    } finally {
      await subject.cleanup?.();
      await subject.engine.close?.();
    }
  }

  test('expiry :: a session expires after session_duration without use', () =>
    shortLived(1, async engine => {
      const id = newId();
      await write(engine, id, true, s => s.set('a', 1), 1);
      assert.equal(await read(engine, id), { a: 1 });
      await sleep(2100);
      assert.is(await engine.retrieve(id), undefined);
    }));

  test('expiry :: reads and writes slide the expiry forward', () =>
    shortLived(2, async engine => {
      const id = newId();
      await write(engine, id, true, s => s.set('a', 1), 2);
      await sleep(1200);
      await write(engine, id, false, s => s.set('b', 2), 2);
      await sleep(1200);
      assert.equal(await read(engine, id), { a: 1, b: 2 }, 'alive 2.4 s after creation, 1.2 s after the write');
      await sleep(1200);
      assert.equal(await read(engine, id), { a: 1, b: 2 }, 'alive 1.2 s after the read');
    }));

  test('sessions :: lists every stored id', async ({ engine }) => {
    const ids = Array.from({ length: 25 }, newId);
    await Promise.all(ids.map(id => write(engine, id, true, s => s.set('x', 1))));
    await engine.destroy(ids[0]!);
    const listed: string[] = [];
    for await (const id of engine.sessions()) listed.push(id);
    assert.equal(listed.sort(), ids.slice(1).sort());
  });

  test('Session.set :: values JSON cannot hold are refused at set time', () => {
    const session = new Session(newId(), {}, true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), 10n, cyclic, NaN, Infinity, new Map(), { nested: [undefined] }]) {
      assert.throws(() => session.set('bad', bad), (error: unknown) => error instanceof TypeError && /bad/.test((error as Error).message));
    }
    assert.not.ok(session.isDirty, 'a refused value changes nothing');
  });

  contract.run();
}
