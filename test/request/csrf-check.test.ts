/**
 * CSRF protection tied to the session (issue 14), through HTTP on Memory, on a real Redis and on
 * the Cookie engine: an unsafe request without its session's token is a 403 before the route
 * runs; the token comes in the `_csrf` field (urlencoded, multipart, JSON) or the `X-CSRF-Token`
 * header; a route can opt out; the token changes with the session id; a plain read costs Redis
 * nothing more.
 */
import { randomBytes } from 'node:crypto';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, createApp, loadConfig, type App, type Upload } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { CountingEngine } from '../support/engine-calls.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';
import { stderrOf } from '../support/stderr.ts';

type Engine = 'Memory' | 'Redis' | 'Cookie';

/** The apps' max_body_size: small, so that a body over it is cheap to send. */
const LIMIT = 10_000;

/** Times each route body ran, so a test can tell that a 403 came before the route. */
let ran = 0;

function csrfApp(engine: Engine, options: Record<string, unknown> = {}): App {
  const app = createApp({ log: 'none', max_body_size: LIMIT, session: engine, engines: { session: { [engine]: { csrf: true, ...options } } } });
  app.before(ctx => void ctx.header('x-frame-options', 'DENY'));
  app.get('/form', ctx => ctx.csrfToken());
  app.get('/plain', () => 'ok');
  app.get('/note', async ctx => JSON.stringify((await ctx.session('note')) ?? null));
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    app.route(method, '/note', async ctx => {
      ran++;
      await ctx.session('note', `${method} ${String(ctx.param('note') ?? '')}`);
      return 'saved';
    });
  }
  // A JSON API that its clients call with a custom header (a cross-site form cannot send one).
  app.post('/api/notes', { csrf: false }, async ctx => {
    await ctx.session('note', (await ctx.body<{ note: string }>()).note);
    return { ok: true };
  });
  app.post('/login', async ctx => {
    await ctx.session('user', 'ann');
    await ctx.changeSessionId();
    return ctx.csrfToken();
  });
  app.post('/upload', async ctx => {
    const file = (await ctx.upload('doc')) as Upload;
    const fields = await ctx.body<Record<string, string>>();
    return { size: file.size, title: fields.title };
  });
  return app;
}

/**
 * A new browser that loaded a page with a form: the token in the page. Without a session, the
 * page stores none: the token is the browser's, in a cookie of its own.
 */
async function withForm(client: TestClient): Promise<{ browser: TestClient; token: string }> {
  const browser = client.fork();
  const res = await browser.get('/form');
  assert.is(res.status, 200);
  assert.is(res.setCookie('sid'), undefined, 'a page with a form stores no session');
  assert.is(res.setCookie('sid.csrf')?.value, res.text, "the browser's token, in its cookie");
  return { browser, token: res.text };
}

/** A multipart body (built by fetch's own FormData encoder) for the test client. */
async function multipart(fields: Record<string, string>, file: string): Promise<{ headers: Record<string, string>; body: Uint8Array }> {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  data.append('doc', new Blob([file], { type: 'text/plain' }), 'notes.txt');
  const encoded = new Response(data);
  return { headers: { 'content-type': encoded.headers.get('content-type')! }, body: new Uint8Array(await encoded.arrayBuffer()) };
}

function csrfTests(test: Test<{ client: TestClient }>): void {
  test('no token :: a form POST without the token is a 403 with a clear message; the route did not run, nothing stored', async ({ client }) => {
    const { browser } = await withForm(client);
    const before = ran;
    const res = await browser.post('/note', { form: { note: 'forged' } });
    assert.is(res.status, 403);
    assert.match(res.text, /CSRF token is missing or wrong/);
    assert.is(res.headers.get('x-frame-options'), 'DENY', 'the before hooks ran and their headers stay');
    assert.is(ran, before, 'the route did not run');
    assert.equal(res.setCookies, [], 'no cookie');
    assert.is((await browser.get('/note')).text, 'null', 'nothing stored');
  });

  test('no session :: an unsafe request from a client without a session is a 403, and none is made', async ({ client }) => {
    const res = await client.fork().post('/note', { form: { note: 'x', _csrf: 'A'.repeat(43) }, headers: { accept: 'application/json' } });
    assert.is(res.status, 403);
    assert.match(res.json().message, /CSRF/, 'JSON for a client that prefers it');
    assert.equal(res.setCookies, []);
  });

  test('wrong token :: a token of the right length but wrong, or another session\'s, is a 403', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const other = await withForm(client);
    assert.is.not(token, other.token, 'each session has a token of its own');
    const before = ran;
    const wrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const sent of [wrong, other.token, token.slice(0, 10), `${token}x`]) {
      assert.is((await browser.post('/note', { form: { note: 'x', _csrf: sent } })).status, 403, sent);
    }
    assert.is((await browser.post('/note', { form: { note: 'x' }, headers: { 'x-csrf-token': other.token } })).status, 403);
    // The field sent twice is no single token.
    const twice = await browser.post('/note', { body: `note=x&_csrf=${token}&_csrf=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.is(twice.status, 403);
    assert.is(ran, before);
  });

  test('form field :: the token in the _csrf field of a urlencoded form is accepted (2xx)', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const res = await browser.post('/note', { form: { note: 'hello', _csrf: token } });
    assert.is(res.status, 200);
    assert.is((await browser.get('/note')).text, '"POST hello"');
    // The same token serves every form of the session until its id changes.
    assert.is((await browser.post('/note', { form: { note: 'again', _csrf: token } })).status, 200);
  });

  test('header :: the token in X-CSRF-Token is accepted for PUT, PATCH, DELETE and POST', async ({ client }) => {
    const { browser, token } = await withForm(client);
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
      const res = await browser.request(method, '/note', { json: { note: method }, headers: { 'x-csrf-token': token } });
      assert.is(res.status, 200, method);
      assert.is((await browser.get('/note')).text, JSON.stringify(`${method} ${method}`));
      assert.is((await browser.request(method, '/note', { json: { note: method } })).status, 403, `${method} without it`);
    }
  });

  test('JSON body :: the token in the _csrf key of a JSON object body is accepted', async ({ client }) => {
    const { browser, token } = await withForm(client);
    assert.is((await browser.post('/note', { json: { note: 'j', _csrf: token } })).status, 200);
  });

  test('opt out :: a route with { csrf: false } runs without a token', async ({ client }) => {
    const browser = client.fork();
    const res = await browser.post('/api/notes', { json: { note: 'from the API' }, headers: { 'x-requested-with': 'fetch' } });
    assert.is(res.status, 200);
    assert.is((await browser.get('/note')).text, '"from the API"');
  });

  test('safe methods :: GET, HEAD and OPTIONS are never checked', async ({ client }) => {
    const browser = client.fork();
    assert.is((await browser.get('/note')).status, 200);
    assert.is((await browser.head('/note')).status, 200);
    assert.is((await browser.request('OPTIONS', '/note')).status, 204);
  });

  test('rotation :: the token changes with changeSessionId (login); the old one is refused after', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const login = await browser.post('/login', { form: { _csrf: token } });
    assert.is(login.status, 200);
    const fresh = login.text;
    const firstId = browser.jar.get('sid')!.value;
    assert.is.not(fresh, token, 'a new token with the session');
    assert.is((await browser.get('/form')).text, fresh, 'later pages carry the new token');
    assert.is((await browser.post('/note', { form: { note: 'x', _csrf: token } })).status, 403, 'the token from before login');
    assert.is((await browser.post('/note', { form: { note: 'y', _csrf: fresh } })).status, 200);
    // A second login (an existing session) changes the id and the token again.
    const again = await browser.post('/login', { form: { _csrf: fresh } });
    assert.is.not(browser.jar.get('sid')!.value, firstId, 'a new session id');
    assert.is.not(again.text, fresh, 'a new token');
    assert.is((await browser.post('/note', { form: { note: 'z', _csrf: fresh } })).status, 403, 'the token from before the second login');
  });

  test('anonymous form :: its POST passes with the browser\'s token and no session read; another browser\'s token, or the token without its cookie, is a 403', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const other = await withForm(client);
    assert.is.not(other.token, token, 'each browser has a token of its own');
    const before = ran;
    assert.is((await other.browser.post('/note', { form: { note: 'x', _csrf: token } })).status, 403, "another browser's token");
    assert.is((await client.fork().post('/note', { form: { note: 'x', _csrf: token } })).status, 403, 'the token without its cookie');
    const planted = await client.fork().post('/note', { form: { note: 'x', _csrf: token }, headers: { cookie: `sid.csrf=${other.token}` } });
    assert.is(planted.status, 403, "a cookie that is not this token's");
    assert.is(ran, before);
    assert.is((await browser.post('/note', { form: { note: 'first', _csrf: token } })).status, 200);
    assert.is((await browser.get('/note')).text, '"POST first"', 'the session the POST made');
    // The session made from an anonymous form keeps the browser's token: other forms rendered before it still pass.
    assert.is((await browser.post('/note', { form: { note: 'second', _csrf: token } })).status, 200);
    assert.is((await browser.get('/form')).text, token);
  });

  test('two tabs :: a form rendered before another tab made the session still passes', async ({ client }) => {
    const { browser, token } = await withForm(client);
    assert.is((await browser.post('/api/notes', { json: { note: 'from the other tab' } })).status, 200);
    assert.ok(browser.jar.get('sid'), 'the other tab made a session');
    assert.is((await browser.post('/note', { form: { note: 'tab one', _csrf: token } })).status, 200);
  });

  test('bad CSRF cookie :: a malformed one is ignored: the page gets a new token, and the bad value is no token', async ({ client }) => {
    const browser = client.fork();
    const bad = 'not-a-token';
    const page = await browser.get('/form', { headers: { cookie: `sid.csrf=${bad}` } });
    assert.is(page.status, 200);
    assert.match(page.text, /^[A-Za-z0-9_-]{43}$/);
    assert.is(page.setCookie('sid.csrf')?.value, page.text, 'a new cookie');
    const res = await client.fork().post('/note', { form: { note: 'x', _csrf: bad }, headers: { cookie: `sid.csrf=${bad}` } });
    assert.is(res.status, 403);
  });

  test('multipart :: a multipart form with the _csrf field is accepted; the route still reads its fields and file', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const ok = await browser.post('/upload', await multipart({ title: 'Mine', _csrf: token }, 'hello upload'));
    assert.is(ok.status, 200);
    assert.equal(ok.json(), { size: 12, title: 'Mine' });
    assert.is((await browser.post('/upload', await multipart({ title: 'Mine' }, 'x'))).status, 403);
  });

  test('multipart param :: the check read the multipart body, so param() in the route sees its text fields', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const res = await browser.post('/note', await multipart({ note: 'from a form with a file', _csrf: token }, 'x'));
    assert.is(res.status, 200);
    assert.is((await browser.get('/note')).text, '"POST from a form with a file"');
  });

  test('body over max_body_size :: a multipart, form or JSON body over it is its 413 naming the setting, not a 403; the route did not run, no cookie, nothing stored', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const fresh = client.fork();
    const before = ran;
    const big = 'x'.repeat(LIMIT + 1);
    for (const who of [browser, fresh]) {
      const bodies = [
        ['multipart', await multipart({ note: 'too big', _csrf: token }, big)],
        ['form', { form: { note: big, _csrf: token } }],
        ['JSON', { json: { note: big, _csrf: token } }],
      ] as const;
      for (const [kind, options] of bodies) {
        const res = await who.post('/note', options);
        assert.is(res.status, 413, kind);
        assert.match(res.text, /max_body_size/, kind);
        assert.equal(res.setCookies, [], `${kind}: no cookie`);
      }
    }
    assert.is(ran, before, 'the route did not run');
    assert.is((await browser.get('/note')).text, 'null', 'nothing stored');
    assert.is(fresh.jar.get('sid'), undefined, 'no session for a client without one');
  });

  test('cross-site :: Sec-Fetch-Site: cross-site on an unsafe method is a 403 before the route, even with the right token; the before hooks\' headers stay', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const before = ran;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await browser.request(method, '/note', { form: { note: 'forged', _csrf: token }, headers: { 'sec-fetch-site': 'cross-site' } });
      assert.is(res.status, 403, method);
      assert.match(res.text, /Another site sent this request/);
      assert.is(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.setCookies, []);
    }
    assert.is(ran, before, 'the route did not run');
    assert.is((await browser.get('/note')).text, 'null', 'nothing stored');
  });

  test('cross-site :: same-origin, same-site, none and no Sec-Fetch-Site pass on to the token; a cross-site GET is served', async ({ client }) => {
    const { browser, token } = await withForm(client);
    for (const site of ['same-origin', 'same-site', 'none', undefined]) {
      const headers: Record<string, string> = site === undefined ? {} : { 'sec-fetch-site': site };
      assert.is((await browser.post('/note', { form: { note: String(site), _csrf: token }, headers })).status, 200, String(site));
      assert.is((await browser.post('/note', { form: { note: String(site) }, headers })).status, 403, `${String(site)} without the token`);
    }
    const read = await browser.get('/note', { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.is(read.status, 200, 'a link from another site still opens the page');
    assert.is(read.text, '"POST undefined"');
  });

  test('cross-site :: a route with { csrf: false } takes cross-site requests (a payment or SAML callback)', async ({ client }) => {
    const browser = client.fork();
    const res = await browser.post('/api/notes', { json: { note: 'from the provider' }, headers: { 'sec-fetch-site': 'cross-site' } });
    assert.is(res.status, 200);
  });

  test('malformed body :: a multipart or JSON body that does not parse is its 400, not a 403', async ({ client }) => {
    const { browser, token } = await withForm(client);
    const before = ran;
    const noBoundary = await browser.post('/note', { headers: { 'content-type': 'multipart/form-data' }, body: `_csrf=${token}` });
    assert.is(noBoundary.status, 400);
    assert.match(noBoundary.text, /boundary/);
    const cut = await browser.post('/note', { headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, body: `--XyZ\r\ncontent-disposition: form-data; name="_csrf"\r\n\r\n${token}` });
    assert.is(cut.status, 400);
    assert.match(cut.text, /malformed/);
    const json = await browser.post('/note', { headers: { 'content-type': 'application/json' }, body: `{"_csrf": "${token}"` });
    assert.is(json.status, 400);
    assert.match(json.text, /JSON/);
    assert.equal([...noBoundary.setCookies, ...cut.setCookies, ...json.setCookies], []);
    assert.is(ran, before, 'the route did not run');
  });
}

const memory = suite<{ client: TestClient }>('csrf :: Memory over HTTP', {} as never);
memory.before(async context => {
  context.client = await testClient(csrfApp('Memory'));
});
memory.after(async ({ client }) => {
  await client?.close();
});
csrfTests(memory);
memory.run();

// The token lives in the session's meta, so it travels inside the sealed cookie too.
const cookie = suite<{ client: TestClient }>('csrf :: Cookie over HTTP', {} as never);
cookie.before(async context => {
  context.client = await testClient(csrfApp('Cookie', { secret_key: randomBytes(32).toString('base64url') }));
});
cookie.after(async ({ client }) => {
  await client?.close();
});
csrfTests(cookie);
cookie.run();

const redis = redisSuite<{ client: TestClient; redis: RedisServer }>('csrf :: Redis over HTTP', {} as never);
redis.before(async context => {
  context.redis = await startRedis();
  context.client = await testClient(csrfApp('Redis', { url: context.redis.url }));
});
redis.after(async ({ client, redis }) => {
  await client?.close();
  await redis?.stop();
});
csrfTests(redis);

/** The counts without the test's own CONFIG RESETSTAT and INFO. */
const commands = async (server: RedisServer) => [...(await server.commandCalls())].filter(([name]) => !/^(config|info)/.test(name));

redis('commandstats :: with csrf on, a plain read sends Redis nothing more; a refused POST without a token reads nothing', async ({ client, redis }) => {
  const { browser, token } = await withForm(client);
  assert.is((await browser.post('/note', { form: { note: 'first', _csrf: token } })).status, 200, 'stores the session');
  await browser.get('/note'); // loads the read script
  await redis.cli('CONFIG', 'RESETSTAT');
  await browser.get('/plain');
  assert.equal(await commands(redis), [], 'a route that does not touch the session: no command');
  await browser.get('/note');
  assert.equal((await commands(redis)).sort(), [['evalsha', 1], ['expire', 1], ['get', 1]], 'a session read: one read script, as without csrf');
  await redis.cli('CONFIG', 'RESETSTAT');
  assert.is((await browser.post('/note', { form: { note: 'x' } })).status, 403);
  assert.equal(await commands(redis), [], 'no token: refused without reading the session');
  await redis.cli('CONFIG', 'RESETSTAT');
  assert.is((await browser.post('/note', { form: { note: 'x', _csrf: token } })).status, 200);
  const calls = new Map(await commands(redis));
  assert.equal([calls.get('evalsha'), calls.get('expire')], [2, 1], 'one read script (GET + EXPIRE), shared by the check and the route, and one flush script');
});
redis('commandstats :: a cross-site POST is refused without a Redis command, token or not', async ({ client, redis }) => {
  const { browser, token } = await withForm(client);
  assert.is((await browser.post('/note', { form: { note: 'first', _csrf: token } })).status, 200, 'stores the session');
  await redis.cli('CONFIG', 'RESETSTAT');
  assert.is((await browser.post('/note', { form: { note: 'x', _csrf: token }, headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);
  assert.equal(await commands(redis), []);
});
redis('commandstats :: a body over max_body_size with csrf on is a 413 that sends Redis nothing: no read, no write', async ({ client, redis }) => {
  const { browser, token } = await withForm(client);
  const keys = await redis.cli('DBSIZE');
  await redis.cli('CONFIG', 'RESETSTAT');
  for (const who of [browser, client.fork()]) {
    assert.is((await who.post('/note', await multipart({ note: 'x', _csrf: token }, 'x'.repeat(LIMIT)))).status, 413);
    assert.is((await who.post('/note', { form: { note: 'x'.repeat(LIMIT), _csrf: token } })).status, 413);
  }
  assert.equal(await commands(redis), []);
  assert.is(await redis.cli('DBSIZE'), keys, 'no session stored');
});
redis.run();

const settings = suite('csrf :: settings and route options');

settings('config :: a csrf that is not a boolean is a ConfigError naming the file and the key', () => {
  const dir = siteDir({ 'config.yml': 'engines:\n  session:\n    Memory:\n      csrf: sometimes\n' });
  try {
    assert.throws(() => loadConfig({ dir, env: {} }), (error: unknown) =>
      error instanceof ConfigError && error.file === 'config.yml' && error.key === 'engines.session.Memory.csrf' && /true or false/.test(error.message) && /sometimes/.test(error.message));
  } finally {
    removeDir(dir);
  }
  assert.throws(() => createApp({ engines: { session: { Redis: { csrf: 2 } } } }), (error: unknown) =>
    error instanceof ConfigError && error.key === 'engines.session.Redis.csrf');
});

settings('default :: csrf is on: a form POST without the token is a 403 and the route does not run; csrf: false turns it off', async () => {
  let runs = 0;
  const app = createApp({ log: 'none' });
  app.post('/x', () => (runs++, 'ran'));
  app.get('/form', ctx => ctx.csrfToken());
  const off = createApp({ log: 'none', engines: { session: { Memory: { csrf: false } } } });
  off.post('/x', () => 'ran');
  const client = await testClient(app);
  const offClient = await testClient(off);
  try {
    // A cross-site form: the browser sends no token (and here no cookie either).
    assert.is((await client.post('/x', { form: { a: '1' } })).status, 403);
    assert.is(runs, 0, 'the route did not run');
    const token = (await client.get('/form')).text;
    const res = await client.post('/x', { form: { a: '1', _csrf: token } });
    assert.is(res.text, 'ran', 'the form with its token passes');
    assert.is((await offClient.post('/x', { form: { a: '1' } })).text, 'ran');
  } finally {
    await client.close();
    await offClient.close();
  }
});

settings('CSRF cookie :: HttpOnly always, with the session cookie\'s SameSite, Secure and Path', async () => {
  const app = createApp({ log: 'none', engines: { session: { Memory: { csrf: true, cookie_same_site: 'Strict', is_secure: true, is_http_only: false, cookie_path: '/app' } } } });
  app.get('/app/form', ctx => ctx.csrfToken());
  const client = await testClient(app);
  try {
    const res = await client.get('/app/form');
    const header = res.headers.get('set-cookie')!;
    // The session cookie's prefix rule: Secure at a Path other than / is __Secure-.
    assert.match(header, /^__Secure-sid\.csrf=[A-Za-z0-9_-]{43}; /);
    for (const attribute of [/; Path=\/app/, /; HttpOnly/, /; Secure/, /; SameSite=Strict/]) assert.match(header, attribute);
    assert.not.match(header, /Expires/, 'a browser-session cookie, as the session cookie without cookie_duration');
  } finally {
    await client.close();
  }
});

settings('cross-site :: with csrf off, a cross-site unsafe request is still a 403 before the route; same-origin runs; { csrf: false } opts out', async () => {
  const app = createApp({ log: 'none', engines: { session: { Memory: { csrf: false } } } });
  let runs = 0;
  app.post('/x', () => `ran ${++runs}`);
  app.del('/x', () => `ran ${++runs}`);
  app.post('/hook', { csrf: false }, () => 'hook');
  app.get('/x', () => 'read');
  const client = await testClient(app);
  try {
    const crossSite = { 'sec-fetch-site': 'cross-site' };
    assert.is((await client.post('/x', { form: { a: '1' }, headers: crossSite })).status, 403);
    assert.is((await client.request('DELETE', '/x', { headers: crossSite })).status, 403);
    assert.is(runs, 0);
    assert.is((await client.post('/x', { headers: { 'sec-fetch-site': 'same-origin' } })).text, 'ran 1');
    assert.is((await client.post('/x')).text, 'ran 2', 'no header: a non-browser client');
    assert.is((await client.post('/hook', { headers: crossSite })).text, 'hook');
    assert.is((await client.get('/x', { headers: crossSite })).text, 'read');
  } finally {
    await client.close();
  }
});

settings('cross-site :: a refused request logs one line at debug, nothing at info', async () => {
  const refused = (level: string) => stderrOf(async () => {
    const app = createApp({ log: level, access_log: false });
    app.post('/x', () => 'ran');
    const client = await testClient(app);
    try {
      assert.is((await client.post('/x', { headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);
    } finally {
      await client.close();
    }
  });
  assert.not.match(await refused('info'), /cross-site/);
  assert.match(await refused('debug'), /POST \/x: cross-site request refused \(Sec-Fetch-Site: cross-site\): 403/);
});

settings('opt in :: { csrf: true } on a route checks it when the setting is off', async () => {
  const app = createApp({ log: 'none' });
  app.get('/form', ctx => ctx.csrfToken());
  app.post('/x', { csrf: true }, () => 'ran');
  const client = await testClient(app);
  try {
    assert.is((await client.post('/x')).status, 403);
    const token = (await client.get('/form')).text;
    assert.is((await client.post('/x', { headers: { 'x-csrf-token': token } })).text, 'ran');
  } finally {
    await client.close();
  }
});

settings('pass and forward :: an opted-out route that passes or forwards to a checked one gets it checked; a checked request is checked once', async () => {
  const app = createApp({ log: 'none', engines: { session: { Memory: { csrf: true } } } });
  let checkedRan = 0;
  app.get('/form', ctx => ctx.csrfToken());
  app.post('/a', { csrf: false }, ctx => ctx.pass());
  app.post('/a', () => 'second route');
  app.post('/b', { csrf: false }, ctx => ctx.forward('/target'));
  app.post('/c', ctx => ctx.forward('/target'));
  app.post('/target', () => `target ${++checkedRan}`);
  const client = await testClient(app);
  try {
    assert.is((await client.post('/a')).status, 403, 'pass() reached a checked route');
    assert.is((await client.post('/b')).status, 403, 'forward() reached a checked route');
    assert.is(checkedRan, 0);
    const headers = { 'x-csrf-token': (await client.get('/form')).text };
    assert.is((await client.post('/a', { headers })).text, 'second route');
    assert.is((await client.post('/c', { headers })).text, 'target 1');
  } finally {
    await client.close();
  }
});

settings('body over max_body_size :: a 413 that never reaches the Memory engine: no read, no write', async () => {
  const engine = new CountingEngine();
  const app = createApp({ log: 'none', max_body_size: LIMIT, engines: { session: { Memory: { csrf: true } } } }, { sessionEngine: engine });
  app.get('/form', ctx => ctx.csrfToken());
  app.post('/x', () => 'ran');
  const client = await testClient(app);
  try {
    const token = (await client.get('/form')).text;
    const stored = engine.calls.flush.length;
    for (const who of [client, client.fork()]) {
      const res = await who.post('/x', await multipart({ _csrf: token }, 'x'.repeat(LIMIT)));
      assert.is(res.status, 413);
      assert.equal(res.setCookies, []);
    }
    assert.equal([engine.calls.retrieve, engine.calls.flush.length], [[], stored]);
  } finally {
    await client.close();
  }
});

settings('route options :: a bad option is a TypeError naming the route when it is added', () => {
  const app = createApp({ log: 'none' });
  assert.throws(() => app.post('/x', { csrf: 'no' } as never, () => 'x'), /The route \/x: options\.csrf must be true or false, got "no"/);
  assert.throws(() => app.post('/x', { csrf: false, crsf: false } as never, () => 'x'), /unknown option "crsf"/);
  assert.throws(() => app.post('/x', null as never, () => 'x'), /must be an object/);
});

/** What one refused POST writes to stderr with the `log` setting at `level`. */
const refusedPostLog = (level: string): Promise<string> =>
  stderrOf(async () => {
    const app = createApp({ log: level, access_log: false, engines: { session: { Memory: { csrf: true } } } });
    app.post('/x', () => 'ran');
    const client = await testClient(app);
    assert.is((await client.post('/x')).status, 403);
    await client.close();
  });

settings('log :: a refused request logs one line at debug, nothing at info', async () => {
  assert.not.match(await refusedPostLog('info'), /CSRF/);
  assert.match(await refusedPostLog('debug'), /POST \/x: CSRF check failed \(no token/);
});

settings.run();
