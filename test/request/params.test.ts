/**
 * The request API a Dancer2 or Express user expects: `ctx.params` as an object typed from the
 * pattern, `param()` from route, body and query, each source alone, the per-request stash, and
 * contentType / responseHeader / uriFor / forward.
 */
import { request } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as dsl from '../../src/dsl.ts';
import { serve } from '../support/serve.ts';

const params = suite('params');

params('ctx.params :: a plain object of the route params, typed from the pattern', () =>
  serve(app => {
    app.get('/users/:id/:tab?', ctx => {
      const id: string = ctx.params.id;
      const tab: string | undefined = ctx.params.tab;
      // @ts-expect-error a name the pattern does not have does not compile
      void ctx.params.missing;
      return { id, tab: tab ?? null, keys: Object.keys(ctx.params), proto: Object.getPrototypeOf(ctx.params) };
    });
    app.get(/^\/posts\/(?<year>\d{4})$/, ctx => ({ year: ctx.params.year ?? null }));
  }, async client => {
    assert.equal((await client.get('/users/7/posts')).json(), { id: '7', tab: 'posts', keys: ['id', 'tab'], proto: null });
    assert.equal((await client.get('/users/7')).json(), { id: '7', tab: null, keys: ['id'], proto: null });
    assert.equal((await client.get('/posts/2026')).json(), { year: '2026' });
  }));

params('param() :: route first, then the form body, then the query, synchronously', () =>
  serve(app => {
    app.post('/items/:id', ctx => ({
      id: ctx.param('id'), name: ctx.param('name'), page: ctx.param('page'), none: ctx.param('none') ?? null,
      all: ctx.parameters(), route: ctx.routeParameters(), query: ctx.queryParameters(), body: ctx.bodyParameters(),
    }));
    app.post('/keyword/:id', () => ({ id: dsl.param('id'), name: dsl.param('name'), all: dsl.params() }));
  }, async client => {
    const form = await client.post('/items/7?id=fromquery&name=fromquery&page=2', { form: { id: 'frombody', name: 'ann' } });
    assert.equal(form.json(), {
      id: '7', name: 'ann', page: '2', none: null,
      all: { id: '7', name: 'ann', page: '2' },
      route: { id: '7' }, query: { id: 'fromquery', name: 'fromquery', page: '2' }, body: { id: 'frombody', name: 'ann' },
    });
    const json = await client.post('/keyword/9?name=q', { json: { name: 'bob', tags: ['a'] } });
    assert.equal(json.json(), { id: '9', name: 'bob', all: { id: '9', name: 'bob', tags: ['a'] } });
  }));

params('a bad body :: only a route that reads it fails (400); others answer', () =>
  serve(app => {
    app.post('/ignores', () => 'fine');
    app.post('/reads', ctx => ctx.param('x') ?? 'none');
    app.post('/text', ctx => ctx.bodyParameters());
  }, async client => {
    const bad = { body: '{"x":', headers: { 'content-type': 'application/json' } };
    assert.is((await client.post('/ignores', bad)).text, 'fine');
    const reads = await client.post('/reads', bad);
    assert.is(reads.status, 400);
    assert.match(reads.text, /not valid JSON/);
    assert.equal((await client.post('/text', { body: 'plain', headers: { 'content-type': 'text/plain' } })).json(), {});
  }));

params('vars() :: a per-request stash shared by hooks and the route, new for each request', () =>
  serve(app => {
    app.before(ctx => {
      ctx.vars('user', 'ann');
      dsl.vars('count', (dsl.vars('count') as number | undefined ?? 0) + 1);
    });
    app.get('/', ctx => ({ user: ctx.vars('user'), count: dsl.vars('count'), all: { ...ctx.vars() } }));
  }, async client => {
    assert.equal((await client.get('/')).json(), { user: 'ann', count: 1, all: { user: 'ann', count: 1 } });
    assert.equal((await client.get('/')).json().count, 1, 'a fresh stash per request');
  }));

params('contentType() and responseHeader() :: short names, reading back what is set', () =>
  serve(app => {
    app.get('/csv', ctx => {
      ctx.contentType('csv');
      ctx.responseHeader('X-Total', 3);
      return `a,b\n${ctx.responseHeader('x-total')},${ctx.contentType()}`;
    });
    app.get('/own', () => {
      dsl.contentType('application/vnd.api+json');
      return '{}';
    });
  }, async client => {
    const csv = await client.get('/csv');
    assert.is(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.is(csv.headers.get('x-total'), '3');
    assert.is(csv.text, 'a,b\n3,text/csv; charset=utf-8');
    assert.is((await client.get('/own')).headers.get('content-type'), 'application/vnd.api+json');
  }));

params('uriFor() :: an absolute URL from the Host header, with a query', () =>
  serve(app => {
    app.get('/link', () => dsl.uriFor('/users', { page: 2, q: 'a b' }));
  }, async client => {
    // fetch() does not send a Host header of the caller's: ask with node:http.
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${client.url}/link`, { headers: { host: 'example.com:8080' } }, res => {
        let body = '';
        res.on('data', chunk => (body += chunk)).on('end', () => resolve(body));
      });
      req.on('error', reject).end();
    });
    assert.is(text, 'http://example.com:8080/users?page=2&q=a+b');
  }));

params('uriFor() :: https behind a proxy trusted with trust_proxy (X-Forwarded-Proto), not from anyone else', async () => {
  for (const trust_proxy of [true, false]) {
    await serve(app => {
      app.get('/link', () => dsl.uriFor('/users'));
    }, async client => {
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(`${client.url}/link`, { headers: { host: 'example.com', 'x-forwarded-proto': 'https' } }, res => {
          let body = '';
          res.on('data', chunk => (body += chunk)).on('end', () => resolve(body));
        });
        req.on('error', reject).end();
      });
      assert.is(text, `${trust_proxy ? 'https' : 'http'}://example.com/users`, `trust_proxy: ${trust_proxy}`);
    }, { trust_proxy });
  }
});

params('forward() :: dispatches again inside the app with the same session and vars; a loop is cut off', () =>
  serve(app => {
    app.get('/old/:name', async ctx => {
      await ctx.session('seen', true);
      ctx.vars('from', ctx.path);
      return ctx.forward(`/new/${ctx.params.name}?via=forward`);
    });
    app.get('/new/:name', async ctx => ({ name: ctx.params.name, via: ctx.param('via'), from: ctx.vars('from'), seen: await ctx.session('seen') }));
    app.post('/as-post', ctx => ctx.forward('/target', { method: 'get' }));
    app.get('/target', ctx => `target by ${ctx.method}`);
    app.get('/loop', ctx => ctx.forward('/loop'));
  }, async client => {
    assert.equal((await client.get('/old/ann')).json(), { name: 'ann', via: 'forward', from: '/old/ann', seen: true });
    assert.ok(client.jar.get('sid'), 'the session write before forward() was kept');
    assert.is((await client.post('/as-post')).text, 'target by GET');
    assert.is((await client.get('/loop')).status, 500);
  }));

params.run();
