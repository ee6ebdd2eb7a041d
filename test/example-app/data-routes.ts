/**
 * The example app's contract for session data (issue 5): GET /counter, PUT /prefs/:name and
 * GET /prefs, including concurrent requests on one session. Registered per engine by http.test.ts.
 */
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { browser, COOKIE, loggedIn, storedSessions, type Ctx } from './harness.ts';

const json = (value: string) => ({ headers: { 'content-type': 'application/json' }, body: value });

export function dataRoutes(test: Test<Ctx>): void {
  test('GET /counter :: counts 1, 2, 3 in a session of its own', async ctx => {
    const client = browser(ctx);
    const first = await client.get('/counter');
    assert.match(first.headers.get('content-type')!, /^application\/json/);
    assert.equal(first.json(), { count: 1 });
    assert.ok(first.setCookie(COOKIE), 'the first count creates the session');
    assert.equal((await client.get('/counter')).json(), { count: 2 });
    assert.equal((await client.get('/counter')).json(), { count: 3 });
    assert.equal((await browser(ctx).get('/counter')).json(), { count: 1 }, 'another browser counts alone');
  });

  test('GET /counter :: 30 concurrent requests on one session add 30', async ctx => {
    const client = browser(ctx);
    await client.get('/counter');
    const all = await Promise.all(Array.from({ length: 30 }, () => client.get('/counter')));
    assert.ok(all.every(res => res.status === 200));
    assert.equal((await client.get('/counter')).json(), { count: 32 });
  });

  test('PUT /prefs/:name :: stores any JSON value, 204; GET /prefs lists them', async ctx => {
    const { client } = await loggedIn(ctx, 'ann');
    const values: Record<string, unknown> = { theme: 'dark', size: 14, on: false, nothing: null, list: [1, 'two'], 'a_b-9': { deep: { x: 1 } } };
    for (const [name, value] of Object.entries(values)) {
      const res = await client.put(`/prefs/${name}`, { json: { value } });
      assert.is(res.status, 204);
      assert.is(res.text, '');
    }
    await client.put('/prefs/size', { json: { value: 16 } });
    const prefs = await client.get('/prefs');
    assert.match(prefs.headers.get('content-type')!, /^application\/json/);
    assert.equal(prefs.json(), { ...values, size: 16 }, 'only preferences, not user or visits');
  });

  test('PUT /prefs/:name :: a preference named __proto__ is an ordinary name', async ctx => {
    const client = browser(ctx);
    assert.is((await client.put('/prefs/__proto__', { json: { value: { polluted: true } } })).status, 204);
    assert.is((await client.get('/prefs')).text, '{"__proto__":{"polluted":true}}');
    assert.is(({} as Record<string, unknown>).polluted, undefined);
  });

  for (const name of ['Theme', 'a'.repeat(33), 'a.b', 'a%20b', 'caf%C3%A9', '', 'a/b']) {
    test(`PUT /prefs/:name :: "${name.length > 20 ? `${name.length} characters` : name}" is a 400`, async ctx => {
      const res = await browser(ctx).put(`/prefs/${name}`, { json: { value: 1 } });
      assert.is(res.status, 400);
      assert.equal(res.setCookies, []);
    });
  }

  test('PUT /prefs/:name :: a JSON client gets the 400 as problem details naming each bad field', async ctx => {
    const { client } = await loggedIn(ctx, 'ann');
    const before = await storedSessions(ctx);
    const res = await client.put('/prefs/Theme', { json: { other: 1 }, headers: { accept: 'application/json' } });
    assert.is(res.status, 400);
    assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
    const problem = res.json();
    assert.equal([problem.status, problem.title], [400, 'Bad Request']);
    assert.equal(problem.errors.map((error: { in: string; field: string }) => `${error.in}.${error.field}`), ['params.name', 'body.value']);
    assert.match(problem.errors[0].detail, /1 to 32 of a-z/);
    assert.equal(res.setCookies, []);
    assert.is(await storedSessions(ctx), before, 'nothing stored');
  });

  test('PUT /prefs/:name :: 32 characters are fine', async ctx => {
    assert.is((await browser(ctx).put(`/prefs/${'z'.repeat(32)}`, { json: { value: 1 } })).status, 204);
  });

  const badBodies: Record<string, { headers: Record<string, string>; body: string }> = {
    'bad JSON': json('{"value": '),
    'a missing value': json('{"other": 1}'),
    'a JSON array': json('[{"value": 1}]'),
    'a JSON string': json('"value"'),
    'JSON null': json('null'),
    'an empty body': json(''),
    'a form body': { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=1' },
    'JSON sent as text/plain': { headers: { 'content-type': 'text/plain' }, body: '{"value": 1}' },
  };
  for (const [what, request] of Object.entries(badBodies)) {
    test(`PUT /prefs/:name :: ${what} is a 400 and stores nothing`, async ctx => {
      const { client } = await loggedIn(ctx, 'ann');
      const before = await storedSessions(ctx);
      const res = await client.put('/prefs/theme', request);
      assert.is(res.status, 400);
      assert.equal(res.setCookies, []);
      assert.equal((await client.get('/prefs')).json(), {});
      assert.is(await storedSessions(ctx), before);
    });
  }

  test('PUT /prefs/:name :: 20 concurrent writes of different names are all kept', async ctx => {
    const { client } = await loggedIn(ctx, 'ann');
    const names = Array.from({ length: 20 }, (_, i) => `pref-${i}`);
    const all = await Promise.all(names.map((name, i) => client.put(`/prefs/${name}`, { json: { value: i } })));
    assert.equal(all.map(res => res.status), names.map(() => 204));
    assert.equal((await client.get('/prefs')).json(), Object.fromEntries(names.map((name, i) => [name, i])));
    assert.equal((await client.get('/whoami')).json(), { user: 'ann' }, 'the user survives too');
  });

  test('GET /prefs :: anonymous is {} and creates no session', async ctx => {
    const before = await storedSessions(ctx);
    const res = await browser(ctx).get('/prefs');
    assert.equal(res.json(), {});
    assert.equal(res.setCookies, []);
    assert.is(await storedSessions(ctx), before);
  });
}
