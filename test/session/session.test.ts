/** The Session value: reads, writes and the change log a flush carries (DESIGN §3.1). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Session } from '../../src/session/session.ts';
import { serve } from '../support/serve.ts';

// Declaration merging types session values for the whole app (checked by `npm run typecheck`).
declare module '../../src/session/session-data.ts' {
  interface SessionData {
    typed_user: string;
  }
}

const value = suite('Session');
const fresh = (data: Record<string, unknown> = {}) => new Session('x'.repeat(32), data, false);

value('types :: declared keys are typed, other keys are unknown', () => {
  const session = fresh({ typed_user: 'ann' });
  const user: string | undefined = session.get('typed_user');
  // @ts-expect-error a declared string key does not take a number
  session.set('typed_user', 42);
  const other: unknown = session.get('anything');
  assert.is(user, 'ann');
  assert.is(other, undefined);
});

value('reads :: get, has, toJSON copy', () => {
  const session = fresh({ a: 1, nested: { b: 2 } });
  assert.is(session.get('a'), 1);
  assert.ok(session.has('a'));
  assert.not.ok(session.has('toString'), 'no inherited keys');
  assert.is(session.get('toString'), undefined);
  const copy = session.toJSON() as { nested: { b: number } };
  copy.nested.b = 99;
  assert.equal(session.get('nested'), { b: 2 });
  assert.not.ok(session.isDirty, 'reading changes nothing');
});

value('set :: stores a copy; later mutation of the argument is not stored', () => {
  const session = fresh();
  const prefs = { theme: 'dark', when: new Date(0) };
  session.set('prefs', prefs);
  prefs.theme = 'light';
  assert.equal(session.get('prefs'), { theme: 'dark', when: '1970-01-01T00:00:00.000Z' });
  assert.equal([...session.change.set], [['prefs', '{"theme":"dark","when":"1970-01-01T00:00:00.000Z"}']]);
});

value('set :: a __proto__ key is an own key, not a prototype change', () => {
  const session = fresh();
  session.set('__proto__', { polluted: true });
  assert.equal(session.get('__proto__'), { polluted: true });
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

value('change log :: set then delete is a delete; delete then set is a set', () => {
  const session = fresh({ a: 1, b: 2 });
  session.set('a', 10);
  session.delete('a');
  session.delete('b');
  session.set('b', 20);
  assert.equal([...session.change.deleted], ['a']);
  assert.equal([...session.change.set], [['b', '20']]);
  assert.ok(session.isDirty);
});

value('increment :: pure increments add up; after a set it becomes the set value', () => {
  const session = fresh({ n: 1, m: 'x' });
  assert.is(session.increment('n'), 2);
  assert.is(session.increment('n', 3), 5);
  assert.equal([...session.change.incremented], [['n', 4]]);
  session.set('k', 10);
  assert.is(session.increment('k', 5), 15);
  assert.equal(session.change.set.get('k'), '15');
  assert.not.ok(session.change.incremented.has('k'));
  assert.is(session.increment('missing'), 1);
  assert.throws(() => session.increment('m'), /not a number/);
  assert.throws(() => session.increment('n', Number.NaN), /finite number/);
});

value('clear :: empties the data and the change log says so', () => {
  const session = fresh({ a: 1 });
  session.set('b', 2);
  session.clear();
  assert.equal(session.toJSON(), {});
  assert.ok(session.change.cleared);
  assert.is(session.change.set.size, 0);
  session.set('c', 3);
  assert.equal([...session.change.set], [['c', '3']]);
});

value('set :: undefined deletes the key (Dancer2 `session key => undef`)', () => {
  const session = fresh({ a: 1 });
  session.set('a', undefined);
  assert.not.ok(session.has('a'));
  assert.ok(session.change.deleted.has('a'));
});

value('set :: values JSON cannot hold are refused at set time', () => {
  const session = new Session('x'.repeat(32), {}, true);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [() => 1, Symbol('s'), 10n, cyclic, NaN, Infinity, new Map(), { nested: [undefined] }]) {
    assert.throws(() => session.set('bad', bad), (error: unknown) => error instanceof TypeError && /bad/.test((error as Error).message));
  }
  assert.not.ok(session.isDirty, 'a refused value changes nothing');
});

/** An array `depth` levels deep (built bottom-up, no recursion). */
function deepArray(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

value('set :: nesting deeper than 100 levels is a TypeError at the call, not a stack overflow', () => {
  const session = fresh();
  session.set('ok', deepArray(100));
  let deep: Record<string, unknown> = {};
  const top = deep;
  for (let i = 0; i < 100; i++) deep = (deep.a = {}) as Record<string, unknown>;
  assert.throws(() => session.set('objects', top), (error: unknown) => error instanceof TypeError && /deeper than 100 levels/.test(error.message));
  for (const depth of [101, 2000, 100_000]) {
    let thrown: unknown;
    try {
      session.set('deep', deepArray(depth));
    } catch (error) {
      thrown = error;
    }
    assert.instance(thrown, TypeError, `depth ${depth}`);
    assert.match((thrown as Error).message, /session value "deep".* deeper than 100 levels/);
  }
  assert.equal(Object.keys(session.toJSON()), ['ok'], 'nothing of the refused values is kept');
});

value('set :: a 2,000-deep value in a route is a 500 (the app\'s bug), and the server keeps serving', () =>
  serve(app => {
    app.get('/deep', async ctx => {
      await ctx.session('deep', deepArray(2000));
      return 'stored?';
    });
    app.get('/ok', () => 'ok');
  }, async client => {
    const res = await client.get('/deep');
    assert.is(res.status, 500);
    assert.equal(res.setCookies, [], 'nothing stored');
    assert.is((await client.get('/ok')).text, 'ok');
  }, { environment: 'production' }));

value('storeKey :: the key a backend derived is kept for the id it was derived from, and dropped when the id changes', () => {
  const session = fresh();
  assert.is(session.storeKey, undefined);
  session.keyedAs('key-of-x');
  assert.is(session.storeKey, 'key-of-x');
  session.rename('y'.repeat(32));
  assert.is(session.storeKey, undefined, 'rename: the old id\'s key would write the session where it no longer is');
  session.keyedAs('key-of-y');
  session.moveAtFlush('z'.repeat(32));
  assert.is(session.storeKey, undefined, 'moveAtFlush: the same');
});

value.run();
