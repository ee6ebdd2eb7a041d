/**
 * The example app's "Your sessions" page and "Sign out everywhere else" (issue 14), on each
 * engine as config.yml sets it up (hash_ids: true): two browsers logged in as one user list each
 * other with their user agents, signing out everywhere else ends the other and keeps this one,
 * logging out leaves the list.
 */
import * as assert from 'uvu/assert';
import type { TestClient } from 'quickstep/testing';
import { browser, engineSuite, ENGINES, type Ctx } from './harness.ts';

/**
 * A browser with its own cookie jar that always sends `userAgent`. `post` sends the form with the
 * CSRF token of the page it is on (`from`), read from its hidden `_csrf` field as a browser does.
 */
function device(ctx: Ctx, userAgent: string) {
  const client: TestClient = browser(ctx);
  const headers = { 'user-agent': userAgent };
  const get = (path: string) => client.get(path, { headers });
  return {
    client,
    get,
    post: async (path: string, form: Record<string, string> = {}, from = '/') => {
      const token = /<input type="hidden" name="_csrf" value="([A-Za-z0-9_-]+)">/.exec((await get(from)).text)?.[1];
      if (token === undefined) throw new Error(`no _csrf field on ${from}`);
      return client.post(path, { headers, form: { ...form, _csrf: token } });
    },
  };
}

/** The devices the page lists: user agent and whether it is marked as this device. */
function listed(html: string): [string, boolean][] {
  return [...html.matchAll(/<li data-handle="[^"]+"( class="current")?>\s*<strong class="agent">([^<]*)<\/strong>/g)].map(m => [m[2]!, m[1] !== undefined]);
}

for (const engine of ENGINES) {
  const test = engineSuite(engine, 'your sessions');

  test('config.yml hashes ids at rest', ctx => {
    assert.is(ctx.app.sessions!.policy.hash_ids, true);
  });

  test('GET /sessions :: two browsers of one user see each other; "Sign out everywhere else" ends the other, keeps this one', async ctx => {
    const laptop = device(ctx, 'Laptop Firefox/128');
    const phone = device(ctx, 'Phone Safari/17');
    assert.is((await laptop.post('/login', { user: 'Dana' })).status, 303);
    assert.is((await phone.post('/login', { user: 'Dana' })).status, 303);
    const home = await phone.get('/');
    assert.match(home.text, /<a href="\/sessions" id="your-sessions">Your sessions<\/a>/);

    const page = await phone.get('/sessions');
    assert.is(page.status, 200);
    assert.equal(listed(page.text), [['Phone Safari/17', true], ['Laptop Firefox/128', false]]);
    assert.match(page.text, /<form method="post" action="\/sessions\/others-out"><input type="hidden" name="_csrf" value="[^"]+"><button type="submit">Sign out everywhere else<\/button><\/form>/);
    assert.equal(listed((await laptop.get('/sessions')).text), [['Phone Safari/17', false], ['Laptop Firefox/128', true]]);
    assert.equal(listed((await device(ctx, 'x').get('/sessions')).text), [], 'anonymous: no list');

    const out = await phone.post('/sessions/others-out', {}, '/sessions');
    assert.is(out.status, 303);
    assert.is(out.headers.get('location'), '/sessions');
    const after = await phone.get('/sessions');
    assert.match(after.text, /Signed out 1 other session\./);
    assert.equal(listed(after.text), [['Phone Safari/17', true]]);
    assert.not.match(after.text, /Sign out everywhere else/, 'no button with one device');
    assert.equal((await laptop.get('/whoami')).json(), { user: null }, 'the laptop is logged out');
    assert.equal((await phone.get('/whoami')).json(), { user: 'Dana' }, 'this device stays logged in');
  });

  test('POST /logout :: the device leaves the list', async ctx => {
    const laptop = device(ctx, 'Laptop Chrome/1');
    const phone = device(ctx, 'Phone Chrome/2');
    await laptop.post('/login', { user: 'Eve' });
    await phone.post('/login', { user: 'Eve' });
    assert.is((await laptop.post('/logout')).status, 303);
    assert.equal(listed((await phone.get('/sessions')).text), [['Phone Chrome/2', true]]);
  });

  test('GET /sessions :: anonymous is sent to the login page; nothing stored', async ctx => {
    const res = await device(ctx, 'x').get('/sessions');
    assert.is(res.status, 302);
    assert.is(res.headers.get('location'), '/');
    assert.equal(res.setCookies, []);
  });

  test.run();
}
