/**
 * Issue 8, item 5: the example app answers hostile or unstorable JSON with a 4xx, never a 500,
 * on each engine, and stores nothing for it.
 */
import * as assert from 'uvu/assert';
import { browser, engineSuite, ENGINES, loggedIn, storedSessions } from './harness.ts';

const json = (body: string) => ({ headers: { 'content-type': 'application/json' }, body });
let deep = '1';
for (let i = 0; i < 2000; i++) deep = `[${deep}]`;

const refused: Record<string, string> = {
  'a number beyond the double range': '{"value":1e400}',
  '2,000 nested arrays': `{"value":${deep}}`,
  'a __proto__ key': '{"value":{"__proto__":{"x":1}}}',
  'a top-level __proto__ key': '{"__proto__":{"x":1},"value":1}',
  'a constructor.prototype key': '{"value":{"constructor":{"prototype":{"x":1}}}}',
};

for (const engine of ENGINES) {
  const test = engineSuite(engine, 'hostile JSON');
  for (const [what, body] of Object.entries(refused)) {
    test(`PUT /prefs/:name :: ${what} is a 400 and stores nothing`, async ctx => {
      const { client } = await loggedIn(ctx, 'ann');
      const before = await storedSessions(ctx);
      const res = await client.put('/prefs/theme', json(body));
      assert.is(res.status, 400, res.text);
      assert.equal((await client.get('/prefs')).json(), {});
      assert.is(await storedSessions(ctx), before);
    });
  }

  test('PUT /prefs/:name :: a value over max_session_size is a 413, the session unchanged', async ctx => {
    const { client } = await loggedIn(ctx, 'ann');
    assert.is((await client.put('/prefs/small', { json: { value: 1 } })).status, 204);
    const res = await client.put('/prefs/huge', { json: { value: 'x'.repeat(300 * 1024) } });
    assert.is(res.status, 413);
    assert.match(res.text, /max_session_size/);
    assert.equal((await client.get('/prefs')).json(), { small: 1 });
    assert.equal((await client.get('/whoami')).json(), { user: 'ann' });
  });

  test('PUT /prefs/:name :: nested JSON within the limits is stored', async ctx => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 60; i++) value = { inner: value };
    const client = browser(ctx);
    assert.is((await client.put('/prefs/nested', { json: { value } })).status, 204);
    assert.equal((await client.get('/prefs')).json(), { nested: value });
  });
  test.run();
}
