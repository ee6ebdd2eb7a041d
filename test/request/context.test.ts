import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { App } from '../../src/server/app.ts';
import { createApp } from '../../src/create-app.ts';
import type { Context } from '../../src/request/context.ts';
import * as dsl from '../../src/dsl.ts';
import { OutsideRequestError } from '../../src/base/errors.ts';
import { testClient, type TestClient } from '../../src/testing/client.ts';
import { serve as serveWith } from '../support/serve.ts';

const serve = (define: (app: App) => void, run: (client: TestClient) => Promise<void>) =>
  serveWith(define, run, { environment: 'production' });

const tick = () => new Promise(resolve => setTimeout(resolve, 1));

const request = suite('Context request data');

request('query :: repeated keys become arrays, "+" is a space, a bare key is ""', () =>
  serve(app => app.get('/', ctx => ctx.query), async client => {
    const res = await client.get('/?tag=a&tag=b&tag=c%20d&name=Ann+Lee&flag&=x&&');
    assert.equal(res.json(), { tag: ['a', 'b', 'c d'], name: 'Ann Lee', flag: '', '': 'x' });
  }));

request('query :: null-prototype; "__proto__" is an ordinary key', () =>
  serve(app => app.get('/', ctx => ({ proto: Object.getPrototypeOf(ctx.query), own: ctx.query.__proto__, toString: 'toString' in ctx.query })), async client => {
    assert.equal((await client.get('/?__proto__=x')).json(), { proto: null, own: 'x', toString: false });
    assert.is(({} as Record<string, unknown>).x, undefined, 'Object.prototype untouched');
  }));

request('query :: malformed percent-encoding is a 400 that says where', () =>
  serve(app => app.get('/', ctx => ctx.query), async client => {
    for (const query of ['a=%zz', 'a=%E0%A4%A', '%=1', 'a=%']) {
      const res = await client.get(`/?${query}`);
      assert.is(res.status, 400, query);
      assert.is(res.text, 'Malformed percent-encoding in the query string');
    }
    assert.is((await client.get('/?a=1')).status, 200, 'still serving');
  }));

request('params() :: route params win over the query; params() merges both', () =>
  serve(app => app.get('/u/:id', ctx => ({ id: ctx.param('id'), page: ctx.param('page'), all: ctx.parameters(), none: ctx.param('none') ?? 'absent' })), async client => {
    assert.equal((await client.get('/u/7?id=evil&page=2')).json(), { id: '7', page: '2', all: { id: '7', page: '2' }, none: 'absent' });
  }));

request('cookies :: lenient (bad pairs skipped, first value wins), null-prototype', () =>
  serve(app => app.get('/', ctx => ({ cookies: Object.entries(ctx.cookies), inherited: ['toString', 'constructor', 'hasOwnProperty'].filter(k => k in ctx.cookies), a: ctx.cookie('a') ?? null })), async client => {
    const header = 'a=1; a=2; garbage; c=%E0%A4%A; d=caf%C3%A9; __proto__=p';
    const res = await client.get('/', { headers: { cookie: header } });
    assert.is(res.status, 200);
    const { cookies, inherited, a } = res.json();
    // An undecodable value is kept raw; "__proto__" is an ordinary own key.
    assert.equal(cookies, [['a', '1'], ['c', '%E0%A4%A'], ['d', 'café'], ['__proto__', 'p']]);
    assert.equal(inherited, [], 'nothing inherited from Object.prototype');
    assert.is(a, '1');
    assert.equal((await client.get('/')).json().cookies, [], 'no Cookie header: empty');
  }));

request('header() :: reads request headers case-insensitively', () =>
  serve(app => app.get('/', ctx => [ctx.header('X-Thing'), ctx.header('x-missing') ?? null]), async client => {
    assert.equal((await client.get('/', { headers: { 'x-thing': 'v' } })).json(), ['v', null]);
  }));

const response = suite('Context response setters');

response('status(), header(), cookie() :: shape the response', () =>
  serve(app => app.post('/', ctx => {
    ctx.status(201);
    ctx.header('X-Count', 3);
    ctx.header('Content-Type', 'text/plain; charset=utf-8');
    ctx.header('link', ['</a>; rel=a', '</b>; rel=b']);
    ctx.cookie('theme', 'dark mode', { httpOnly: true, maxAge: 60 });
    ctx.cookie('lang', 'fr', { path: '/fr' });
    return `status is ${ctx.status()}`;
  }), async client => {
    const res = await client.post('/');
    assert.is(res.status, 201);
    assert.is(res.text, 'status is 201');
    assert.is(res.headers.get('x-count'), '3');
    assert.is(res.headers.get('content-type'), 'text/plain; charset=utf-8', 'a set content-type is kept');
    assert.is(res.headers.get('link'), '</a>; rel=a, </b>; rel=b');
    assert.equal(res.headers.getSetCookie(), ['theme=dark%20mode; Max-Age=60; Path=/; HttpOnly', 'lang=fr; Path=/fr']);
  }));

response('status() :: an invalid code is an error, not a broken response', () =>
  serve(app => app.get('/', ctx => ctx.status(99)), async client => {
    assert.is((await client.get('/')).status, 500);
  }));

const keywords = suite('keywords');

// The request keywords, each called with arguments that reach the current Context.
const REQUEST_KEYWORDS: [string, () => unknown][] = [
  ['request', () => dsl.request()], ['body', () => dsl.body()], ['param', () => dsl.param('x')], ['params', () => dsl.params()], ['splat', () => dsl.splat()],
  ['routeParameters', () => dsl.routeParameters()], ['queryParameters', () => dsl.queryParameters()], ['bodyParameters', () => dsl.bodyParameters()],
  ['vars', () => dsl.vars('x')], ['responseHeader', () => dsl.responseHeader('x')], ['contentType', () => dsl.contentType('json')],
  ['uriFor', () => dsl.uriFor('/')], ['forward', () => dsl.forward('/')],
  ['status', () => dsl.status(200)], ['header', () => dsl.header('x')], ['cookie', () => dsl.cookie('x')],
  ['redirect', () => dsl.redirect('/')], ['halt', () => dsl.halt()], ['pass', () => dsl.pass()],
  ['sendError', () => dsl.sendError('x')], ['session', () => dsl.session('x')],
  ['destroySession', () => dsl.destroySession()], ['changeSessionId', () => dsl.changeSessionId()],
];

keywords('outside a request :: OutsideRequestError naming the keyword', () => {
  for (const [name, call] of REQUEST_KEYWORDS) {
    try {
      call();
      assert.unreachable(`${name}() did not throw`);
    } catch (error) {
      assert.instance(error, OutsideRequestError, name);
      assert.is((error as OutsideRequestError).keyword, name);
      assert.ok((error as Error).message.startsWith(`${name}() was called outside a request`), (error as Error).message);
    }
  }
});

keywords('setting() and config() :: work outside a request (they read the default app)', () => {
  assert.is(dsl.setting('max_body_size'), 1048576);
  assert.is(dsl.config().port, dsl.setting('port'));
});

// One route per style: the DSL keyword and the ctx method must give the same response.
type Style = { [K in 'status' | 'header' | 'cookie' | 'param' | 'request' | 'body' | 'halt' | 'redirect' | 'pass' | 'sendError' | 'setting']: Function };
const viaDsl: Style = dsl;
const viaCtx = (ctx: Context): Style => ({
  status: ctx.status.bind(ctx), header: ctx.header.bind(ctx), cookie: ctx.cookie.bind(ctx), param: ctx.param.bind(ctx),
  request: ctx.request.bind(ctx), body: ctx.body.bind(ctx), halt: ctx.halt.bind(ctx), redirect: ctx.redirect.bind(ctx),
  pass: ctx.pass.bind(ctx), sendError: ctx.sendError.bind(ctx), setting: ctx.setting.bind(ctx),
});

keywords('every request keyword :: also a ctx method, with the same effect', () =>
  serve(app => {
    for (const [style, kw] of [['dsl', () => viaDsl], ['ctx', viaCtx]] as const) {
      app.post(`/${style}/:id`, async ctx => {
        const k = kw(ctx);
        k.status(202);
        k.header('x-ua', k.header('x-in'));
        k.cookie('out', String(k.cookie('in')));
        return { id: k.param('id'), method: k.request().method, body: await k.body(), env: k.setting('environment') };
      });
      app.get(`/${style}/halt`, ctx => kw(ctx).halt('halted'));
      app.get(`/${style}/redirect`, ctx => kw(ctx).redirect('/there', 303));
      app.get(`/${style}/error`, ctx => kw(ctx).sendError('forbidden here', 403));
      app.get(`/${style}/pass`, ctx => kw(ctx).pass());
      app.get(`/${style}/pass`, () => 'passed on');
    }
  }, async client => {
    for (const style of ['dsl', 'ctx']) {
      const res = await client.post(`/${style}/9`, { json: { a: 1 }, headers: { 'x-in': 'hi', cookie: 'in=c' } });
      assert.is(res.status, 202, style);
      assert.equal(res.json(), { id: '9', method: 'POST', body: { a: 1 }, env: 'production' }, style);
      assert.is(res.headers.get('x-ua'), 'hi', style);
      assert.is(res.setCookie('out')?.value, 'c', style);
      assert.is((await client.get(`/${style}/halt`)).text, 'halted', style);
      const redirect = await client.get(`/${style}/redirect`);
      assert.is(redirect.status, 303, style);
      assert.is(redirect.headers.get('location'), '/there', style);
      const error = await client.get(`/${style}/error`);
      assert.equal([error.status, error.text], [403, 'forbidden here'], style);
      assert.is((await client.get(`/${style}/pass`)).text, 'passed on', style);
    }
  }));

keywords('AsyncLocalStorage :: keywords find the request after awaits, timers and in hooks', () =>
  serve(app => {
    app.before(async () => {
      await tick();
      dsl.header('x-hook-path', dsl.request().path);
    });
    app.post('/a/:id', async () => {
      await tick();
      const body = await dsl.body<{ n: number }>();
      await new Promise(resolve => setImmediate(resolve));
      const later = await new Promise(resolve => setTimeout(() => resolve(dsl.param('id')), 2));
      return { later, n: body.n };
    });
  }, async client => {
    const res = await client.post('/a/42', { json: { n: 5 } });
    assert.equal(res.json(), { later: '42', n: 5 });
    assert.is(res.headers.get('x-hook-path'), '/a/42');
  }));

keywords('keywords: false :: ctx methods work, keywords say to use ctx (no AsyncLocalStorage)', async () => {
  const app = createApp({ log: 'none', keywords: false });
  let refused: unknown;
  app.get('/ctx', async ctx => {
    await ctx.session('n', 1);
    return ctx.param('q');
  });
  app.get('/keyword', () => {
    try {
      return dsl.param('q');
    } catch (error) {
      refused = error;
      throw error;
    }
  });
  const client = await testClient(app);
  try {
    const viaCtx = await client.get('/ctx?q=yes');
    assert.equal([viaCtx.status, viaCtx.text], [200, 'yes']);
    assert.ok(viaCtx.setCookie('sid'), 'sessions work through ctx');
    assert.is((await client.get('/keyword?q=yes')).status, 500);
    assert.instance(refused, OutsideRequestError);
    assert.match((refused as Error).message, /ctx\.param\(\).*keywords: false/);
  } finally {
    await client.close();
  }
});

keywords('AsyncLocalStorage :: concurrent requests do not see each other', () => {
  let releaseFirst!: () => void;
  const firstMayFinish = new Promise<void>(resolve => (releaseFirst = resolve));
  return serve(app => app.get('/w/:id', async () => {
    const mine = dsl.param('id');
    if (mine === 'first') await firstMayFinish;
    else releaseFirst();
    await tick();
    return { mine, now: dsl.param('id'), q: dsl.param('q') };
  }), async client => {
    const first = client.get('/w/first?q=1');
    await tick();
    const second = await client.get('/w/second?q=2');
    assert.equal(second.json(), { mine: 'second', now: 'second', q: '2' });
    assert.equal((await first).json(), { mine: 'first', now: 'first', q: '1' });
  });
});

request.run();
response.run();
keywords.run();
