/**
 * The example app's contract for logging in and out (issue 5): GET /, POST /login, POST /logout,
 * GET /whoami, GET /health. Registered on a suite per engine by http.test.ts.
 */
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { browser, COOKIE, cookieFor, CSRF_COOKIE, formToken, loggedIn, storedSessions, type Ctx } from './harness.ts';

export function sessionRoutes(test: Test<Ctx>): void {
  test('GET / :: anonymous gets the login form with a CSRF token, and no session: nothing stored, no session cookie', async ctx => {
    const before = await storedSessions(ctx);
    const client = browser(ctx);
    await ctx.redis?.cli('CONFIG', 'RESETSTAT');
    const res = await client.get('/');
    // Redis: not one command, read or write (no session cookie came, so nothing to read).
    if (ctx.redis) assert.equal([...(await ctx.redis.commandCalls())].filter(([name]) => !/^(config|info)/.test(name)), []);
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.match(res.text, /<form method="post" action="\/login">/);
    assert.match(res.text, /<input name="user"/);
    const token = /<input type="hidden" name="_csrf" value="([A-Za-z0-9_-]{43})">/.exec(res.text)?.[1];
    assert.ok(token, 'the form carries a token');
    assert.is(res.setCookie(COOKIE), undefined, 'no session cookie');
    const csrf = res.setCookie(CSRF_COOKIE);
    assert.is(csrf?.value, token, "the browser's token, in its own cookie");
    assert.match(res.headers.get('set-cookie')!, /HttpOnly/i);
    assert.match(res.headers.get('set-cookie')!, /SameSite=Lax/i);
    assert.is(await storedSessions(ctx), before, 'nothing stored');
    assert.equal((await client.get('/whoami')).json(), { user: null }, 'nobody is logged in');
    assert.is(await formToken(client), token, 'the same token on every page for this browser');
    assert.is(await storedSessions(ctx), before, 'still nothing stored');
  });

  test('login CSRF :: logging in from the anonymous form works; the token then changes with the session', async ctx => {
    const client = browser(ctx);
    const token = await formToken(client);
    const res = await client.post('/login', { form: { user: 'ann', _csrf: token } });
    assert.is(res.status, 303);
    assert.equal((await client.get('/whoami')).json(), { user: 'ann' });
    const fresh = await formToken(client);
    assert.is.not(fresh, token, 'a new token at login');
    assert.is((await client.post('/logout', { form: { _csrf: token } })).status, 403, 'the token from before login is refused');
    assert.is((await client.post('/logout', { form: { _csrf: fresh } })).status, 303);
    assert.equal((await client.get('/whoami')).json(), { user: null });
    assert.is(client.jar.get(COOKIE), undefined, 'after logout the browser holds no session cookie');
    await formToken(client);
    assert.is(client.jar.get(COOKIE), undefined, 'and the login page it lands on gives it none');
  });

  test('CSRF :: POST /login without the token is a 403: nobody logged in, nothing stored', async ctx => {
    const client = browser(ctx);
    const token = await formToken(client);
    const before = await storedSessions(ctx);
    for (const form of [{ user: 'mallory' }, { user: 'mallory', _csrf: token.replace(/^./, c => (c === 'a' ? 'b' : 'a')) }]) {
      const res = await client.post('/login', { form });
      assert.is(res.status, 403);
      assert.match(res.text, /CSRF token/);
      assert.equal(res.setCookies, []);
    }
    const fresh = await browser(ctx).post('/login', { form: { user: 'mallory', _csrf: token } });
    assert.is(fresh.status, 403, "another browser (no CSRF cookie) cannot use this browser's token");
    const other = browser(ctx);
    await formToken(other);
    const forged = await other.post('/login', { form: { user: 'mallory', _csrf: token } });
    assert.is(forged.status, 403, "another browser with a token of its own cannot use this browser's");
    assert.equal((await client.get('/whoami')).json(), { user: null });
    assert.is(await storedSessions(ctx), before);
  });

  test('CSRF :: with the token the login is a 303, and the token changes on login', async ctx => {
    const client = browser(ctx);
    const before = await formToken(client);
    assert.is((await client.post('/login', { form: { user: 'ann', _csrf: before } })).status, 303);
    const after = await formToken(client);
    assert.is.not(after, before, 'a new token after login');
    assert.is((await client.post('/logout', { form: { _csrf: before } })).status, 403, 'the pre-login token is refused');
    assert.equal((await client.get('/whoami')).json(), { user: 'ann' });
    assert.is((await client.post('/logout', { form: { _csrf: after } })).status, 303);
  });

  test('POST /login :: stores the trimmed name, 303 to / with a session cookie', async ctx => {
    const client = browser(ctx);
    const res = await client.post('/login', { form: { user: '  Ann Smith  ', _csrf: await formToken(client) } });
    assert.is(res.status, 303);
    assert.is(res.headers.get('location'), '/');
    assert.ok(res.setCookie(COOKIE)?.value);
    assert.equal((await client.get('/whoami')).json(), { user: 'Ann Smith' });
  });

  test('POST /login :: 64 characters (emoji count as one) are accepted', async ctx => {
    for (const user of ['a'.repeat(64), '🦊'.repeat(64)]) {
      const { client } = await loggedIn(ctx, user);
      assert.equal((await client.get('/whoami')).json(), { user });
    }
  });

  const refused: Record<string, Record<string, string>> = {
    '65 characters is a 400': { form: 'user=' + 'a'.repeat(65) },
    'an empty name is a 400': { form: 'user=' },
    'a whitespace-only name is a 400': { form: 'user=%20%09%20' },
    'a missing field is a 400': { form: 'name=ann' },
    'the field twice is a 400': { form: 'user=ann&user=bob' },
    'bad percent-encoding is a 400': { form: 'user=%E0%A4%A' },
    'a JSON body is a 400': { json: '{"user":"ann"}' },
    'no body is a 400': {},
  };
  for (const [title, sent] of Object.entries(refused)) {
    test(`POST /login :: ${title}: readable page, no cookie, nothing stored`, async ctx => {
      const client = browser(ctx);
      // In the header, so that even a body that cannot be parsed reaches the route.
      const token = await formToken(client);
      const before = await storedSessions(ctx);
      const type = sent.json === undefined ? 'application/x-www-form-urlencoded' : 'application/json';
      const res = await client.post('/login', { headers: { 'content-type': type, 'x-csrf-token': token }, body: sent.form ?? sent.json ?? '' });
      assert.is(res.status, 400);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.match(res.text, /class="error"/);
      assert.match(res.text, /action="\/login"/, 'the page offers the form again');
      assert.equal(res.setCookies, []);
      assert.is(await storedSessions(ctx), before);
    });
  }

  test('POST /login :: a refused login leaves an existing session as it was', async ctx => {
    const { client, id } = await loggedIn(ctx, 'ann');
    const res = await client.post('/login', { form: { user: ' ', _csrf: await formToken(client) } });
    assert.is(res.status, 400);
    assert.equal(res.setCookies, []);
    assert.equal((await client.get('/whoami', { headers: cookieFor(id) })).json(), { user: 'ann' });
  });

  test('POST /login :: changes the session id; the pre-login id is dead, its data moves', async ctx => {
    const client = browser(ctx);
    await client.get('/counter');
    const before = client.jar.get(COOKIE)!.value;
    await client.post('/login', { form: { user: 'ann', _csrf: await formToken(client) } });
    const after = client.jar.get(COOKIE)!.value;
    assert.is.not(after, before);
    assert.equal((await client.get('/counter')).json(), { count: 2 });
    const old = await browser(ctx).get('/whoami', { headers: cookieFor(before) });
    assert.equal(old.json(), { user: null });
  });

  test('GET / :: greets the user, HTML-escaped (no XSS)', async ctx => {
    const { client } = await loggedIn(ctx, `<script>alert("x")</script> & 'co'`);
    const res = await client.get('/');
    assert.is(res.status, 200);
    assert.ok(res.text.includes('Hello, &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;'));
    assert.not.ok(res.text.includes('<script>alert'));
    assert.match(res.text, /action="\/logout"/);
  });

  test('GET / :: counts the visits of a logged-in user', async ctx => {
    const { client } = await loggedIn(ctx, 'ann');
    for (const visits of [1, 2, 3]) {
      assert.match((await client.get('/')).text, new RegExp(`id="visits">${visits}<`));
    }
  });

  test('GET / after login :: the "Welcome back" flash shows once; the last 5 visits are listed', async ctx => {
    const { client } = await loggedIn(ctx, 'Ann');
    const first = await client.get('/');
    assert.match(first.text, /<p class="notice" id="notice">Welcome back, Ann!<\/p>/);
    const second = await client.get('/');
    assert.not.match(second.text, /id="notice"/, 'shown once');
    for (let i = 0; i < 5; i++) await client.get('/');
    const recent = /<ol id="recent">(.*?)<\/ol>/s.exec((await client.get('/')).text)![1]!;
    assert.is(recent.match(/<li>/g)!.length, 5, 'push(..., { max: 5 }) keeps the last five');
  });

  test('POST /logout :: destroys the session, 303 to /; the old cookie is logged out', async ctx => {
    const { client, id } = await loggedIn(ctx, 'ann');
    const token = await formToken(client);
    const before = await storedSessions(ctx);
    const res = await client.post('/logout', { form: { _csrf: token } });
    assert.is(res.status, 303);
    assert.is(res.headers.get('location'), '/');
    assert.is(client.jar.get(COOKIE), undefined, 'the cookie is expired');
    assert.is(await storedSessions(ctx), before - 1);
    assert.equal((await browser(ctx).get('/whoami', { headers: cookieFor(id) })).json(), { user: null });
    assert.match((await browser(ctx).get('/', { headers: cookieFor(id) })).text, /action="\/login"/);
  });

  test('GET /whoami :: anonymous is null and creates no session', async ctx => {
    const before = await storedSessions(ctx);
    const res = await browser(ctx).get('/whoami');
    assert.is(res.status, 200);
    assert.equal(res.json(), { user: null });
    assert.equal(res.setCookies, []);
    assert.is(await storedSessions(ctx), before);
  });

  test('GET /health :: ok, and never a cookie, even with a session cookie', async ctx => {
    const { id } = await loggedIn(ctx, 'ann');
    for (const headers of [{}, cookieFor(id), cookieFor('not-a-session-id'), cookieFor('x'.repeat(32))]) {
      const res = await browser(ctx).get('/health', { headers });
      assert.is(res.status, 200);
      assert.is(res.text, 'ok');
      assert.equal(res.setCookies, []);
    }
  });
}
