import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import { ConfigError, HttpError } from '../../src/base/errors.ts';
import { serve } from '../support/serve.ts';
import { stderrOf } from '../support/stderr.ts';

/** Serves a fresh app built by `define` and hands its client to `run`; the server is closed after. */

const body = suite('app.handle() return values');

body('string :: text/html', () =>
  serve(app => app.get('/', () => '<p>hi</p>'), async client => {
    const res = await client.get('/');
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.is(res.text, '<p>hi</p>');
  }));

body('Buffer and Uint8Array :: octet-stream, bytes unchanged', () =>
  serve(app => {
    app.get('/buf', () => Buffer.from([0, 255, 1]));
    app.get('/u8', async () => new Uint8Array([7, 8]));
  }, async client => {
    const buf = await fetch(client.url + '/buf');
    assert.is(buf.headers.get('content-type'), 'application/octet-stream');
    assert.equal([...new Uint8Array(await buf.arrayBuffer())], [0, 255, 1]);
    const u8 = await fetch(client.url + '/u8');
    assert.equal([...new Uint8Array(await u8.arrayBuffer())], [7, 8]);
  }));

body('object and array :: JSON', () =>
  serve(app => {
    app.get('/obj', () => ({ a: 1, b: 'é' }));
    app.get('/arr', () => Promise.resolve([1, { x: null }]));
  }, async client => {
    const obj = await client.get('/obj');
    assert.is(obj.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(obj.json(), { a: 1, b: 'é' });
    assert.is(obj.headers.get('content-length'), String(Buffer.byteLength(obj.text)));
    assert.equal((await client.get('/arr')).json(), [1, { x: null }]);
  }));

body('undefined :: the body the context holds (empty by default)', () =>
  serve(app => {
    app.get('/empty', () => undefined);
    app.before(ctx => { if (ctx.path === '/held') ctx.responseBody = 'set by a hook'; });
    app.get('/held', ctx => void ctx.status(202));
  }, async client => {
    const empty = await client.get('/empty');
    assert.is(empty.status, 200);
    assert.is(empty.text, '');
    assert.is(empty.headers.get('content-length'), '0');
    const held = await client.get('/held');
    assert.is(held.status, 202);
    assert.is(held.text, 'set by a hook');
  }));

// Decision: null is a value, not "no body": it is sent as JSON `null`, as Express res.json(null)
// and Fastify reply.send(null) do.
body('null :: JSON null', () =>
  serve(app => app.get('/', () => null), async client => {
    const res = await client.get('/');
    assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.is(res.text, 'null');
  }));

const routing = suite('app.handle() routing');

routing('HEAD :: answered by the GET route without a body, with its content-length', () => {
  let runs = 0;
  return serve(app => app.get('/page', () => (runs++, 'hello world')), async client => {
    const res = await client.head('/page');
    assert.is(res.status, 200);
    assert.is(res.text, '');
    assert.is(res.headers.get('content-length'), '11');
    assert.is(runs, 1);
  });
});

routing('404 :: no route for the path', () =>
  serve(app => app.get('/', () => 'home'), async client => {
    const res = await client.get('/nope');
    assert.is(res.status, 404);
    assert.is(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  }));

routing('405 :: the path exists for other methods, with Allow', () =>
  serve(app => {
    app.get('/thing/:id', () => 'get');
    app.post('/thing/:id', () => 'post');
  }, async client => {
    const res = await client.delete('/thing/1');
    assert.is(res.status, 405);
    assert.is(res.headers.get('allow'), 'GET, HEAD, POST');
  }));

routing('pass() :: the next matching route answers', () =>
  serve(app => {
    app.get('/u/:name', ctx => (ctx.param('name') === 'admin' ? 'admin page' : ctx.pass()));
    app.get('/u/:name', ctx => `user ${ctx.param('name')}`);
    app.get('/only/:x', ctx => ctx.pass());
  }, async client => {
    assert.is((await client.get('/u/admin')).text, 'admin page');
    assert.is((await client.get('/u/ann')).text, 'user ann');
    assert.is((await client.get('/only/1')).status, 404, 'passing from the last route is a 404');
  }));

routing('prefix() :: routes grouped under a path, nested; "/" answers with and without slash', () =>
  serve(app => {
    app.prefix('/admin/', () => {
      app.get('/', () => 'admin home');
      app.get('/users/:id', ctx => `user ${ctx.param('id')}`);
      app.prefix('/deep', () => app.get('/x', () => 'deep'));
    });
    app.get('/users/:id', () => 'public');
  }, async client => {
    assert.is((await client.get('/admin')).text, 'admin home');
    assert.is((await client.get('/admin/')).text, 'admin home');
    assert.is((await client.get('/admin/users/3')).text, 'user 3');
    assert.is((await client.get('/admin/deep/x')).text, 'deep');
    assert.is((await client.get('/users/3')).text, 'public', 'the prefix ends with its block');
  }));

routing('prefix() :: a RegExp route inside a prefix is refused at once, naming the fix', () => {
  const app = createApp({ log: 'none' });
  assert.throws(() => app.prefix('/admin', () => app.get(/^\/x$/, () => 'x')), /write the prefix into the RegExp/);
});

routing('any() :: a list of methods (del = DELETE), or every method', () =>
  serve(app => {
    app.any(['get', 'post', 'del'], '/some', ctx => `some ${ctx.method}`);
    app.any('/all', ctx => `all ${ctx.method}`);
  }, async client => {
    assert.is((await client.post('/some')).text, 'some POST');
    assert.is((await client.delete('/some')).text, 'some DELETE');
    const put = await client.put('/some');
    assert.is(put.status, 405);
    assert.is(put.headers.get('allow'), 'DELETE, GET, HEAD, POST');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      assert.is((await client.request(method, '/all')).text, `all ${method}`);
    }
  }));

routing('params, splat and RegExp named captures :: decoded, through HTTP', () =>
  serve(app => {
    app.get('/users/:id/:tab?', ctx => ({ params: ctx.parameters(), splat: ctx.splat }));
    app.get('/files/**', ctx => ctx.splat);
    app.get('/img/*/*', ctx => ctx.splat);
    app.get(/^\/posts\/(?<year>\d{4})\/(?<slug>[a-z-]+)$/, ctx => ctx.parameters());
  }, async client => {
    assert.equal((await client.get('/users/a%20b?q=1')).json(), { params: { q: '1', id: 'a b' }, splat: [] });
    assert.equal((await client.get('/users/7/posts')).json().params, { id: '7', tab: 'posts' });
    assert.equal((await client.get('/files/a/b%2Fc.txt')).json(), ['a/b/c.txt']);
    assert.equal((await client.get('/img/x/y')).json(), ['x', 'y']);
    assert.equal((await client.get('/posts/2024/hello-world')).json(), { year: '2024', slug: 'hello-world' });
    assert.is((await client.get('/posts/24/hello')).status, 404);
  }));

const errors = suite('app errors');

errors('HttpError :: its status; a 4xx shows its message, a 5xx only the reason phrase', () =>
  serve(app => {
    app.get('/teapot', () => { throw new HttpError(418, 'short and stout'); });
    app.get('/down', async () => { throw new HttpError(503, 'db host 10.0.0.5 unreachable'); });
    app.get('/send', ctx => ctx.sendError('Not yours', 403));
  }, async client => {
    const teapot = await client.get('/teapot');
    assert.is(teapot.status, 418);
    assert.is(teapot.text, 'short and stout');
    const down = await client.get('/down');
    assert.is(down.status, 503);
    assert.is(down.text, 'Service Unavailable');
    const send = await client.get('/send');
    assert.is(send.status, 403);
    assert.is(send.text, 'Not yours');
  }, { environment: 'production' }));

errors('HttpError headers :: go out with the error response; other headers set before it do not', () =>
  serve(app => {
    app.get('/private', ctx => {
      ctx.header('x-before', 'set by the route');
      throw new HttpError(401, 'Log in first', { headers: { 'WWW-Authenticate': 'Basic realm="app"' } });
    });
    app.post('/only-post', () => 'posted');
  }, async client => {
    const res = await client.get('/private');
    assert.is(res.status, 401);
    assert.is(res.headers.get('www-authenticate'), 'Basic realm="app"');
    assert.is(res.headers.get('x-before'), null);
    const wrongMethod = await client.get('/only-post');
    assert.is(wrongMethod.status, 405);
    assert.is(wrongMethod.headers.get('allow'), 'POST', 'a 405 carries Allow through the same HttpError headers');
  }));

errors('uncaught throw :: 500 hiding details in production, logged once with the stack', async () => {
  const log = await stderrOf(() =>
    serve(app => {
      app.get('/', ctx => { ctx.header('x-partial', '1'); throw new Error('secret password 42'); });
      app.get('/ok', () => 'fine');
    }, async client => {
      const res = await client.get('/');
      assert.is(res.status, 500);
      assert.is(res.text, 'Internal Server Error');
      assert.is(res.headers.get('x-partial'), null, 'headers of the failed response are dropped');
      assert.is((await client.get('/ok')).status, 200);
    }, { environment: 'production', log: 'error' }));
  assert.is(log.split('secret password 42').length - 1, 1, 'logged exactly once');
  assert.match(log, /at .*app\.test\.ts/);
});

errors('uncaught throw :: development shows the error and stack', () =>
  serve(app => app.get('/', async () => Promise.reject(new RangeError('bad index 9'))), async client => {
    const res = await client.get('/');
    assert.is(res.status, 500);
    assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.text, /<h2>RangeError<\/h2>\n<pre>bad index 9<\/pre>\n<p>Thrown at <code>[^<]*test\/server\/app\.test\.ts:\d+<\/code><\/p>\n<pre>\s+at /);
  }, { environment: 'development' }));

errors('unwritable responses :: non-Error throws, a bad header, a BigInt body are 500s; serving goes on', () =>
  serve(app => {
    app.get('/null', () => { throw null; });
    app.get('/string', async () => { throw 'plain text'; });
    app.get('/header', ctx => { ctx.header('x-bad', 'line\nbreak'); return 'x'; });
    app.get('/bigint', () => ({ n: 10n }));
    app.get('/ok', () => 'fine');
  }, async client => {
    for (const path of ['/null', '/string', '/header', '/bigint']) {
      const res = await client.get(path);
      assert.is(res.status, 500, path);
      assert.not.match(res.text, /plain text|line|10n/, `${path}: nothing internal shown`);
    }
    assert.is((await client.get('/ok')).text, 'fine');
  }, { environment: 'production' }));

const set = suite('app.setting()');

set('a simple setting :: applies to later requests', () =>
  serve(app => {
    app.post('/', async ctx => ctx.body());
    app.setting('max_body_size', '8');
  }, async client => {
    const opts = { body: '123456789', headers: { 'content-type': 'text/plain' } };
    assert.is((await client.post('/', opts)).status, 413);
    assert.is((await client.post('/', { ...opts, body: '12345678' })).text, '12345678');
  }));

set('a bad value :: ConfigError naming the setting; an unknown name :: TypeError', () => {
  const app = createApp();
  assert.throws(() => app.setting('max_body_size', 'lots'), (e: unknown) => e instanceof ConfigError && e.key === 'max_body_size' && e.file === 'setting("max_body_size")');
  assert.throws(() => app.setting('log', 'loud'), (e: unknown) => e instanceof ConfigError && e.key === 'log');
  assert.throws(() => app.setting('session' as never, 'Redis'), (e: Error) => e instanceof TypeError && /config\.yml/.test(e.message));
  assert.is(app.settings.max_body_size, 1048576, 'a refused value changes nothing');
});

body.run();
routing.run();
errors.run();
set.run();
