/**
 * Every error response can be shaped by the app (DESIGN §2): before_error and on_route_exception
 * hooks, JSON for clients that prefer it, headers from before hooks kept, OPTIONS answered, and
 * control-flow signals that user code caught by accident still taking effect.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, HttpError, SessionStoreError } from '../../src/base/errors.ts';
import * as dsl from '../../src/dsl.ts';
import { FailingFlushEngine } from '../support/engine-calls.ts';
import { serve, withClient, withoutCsrf } from '../support/serve.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';
import { createApp } from '../../src/create-app.ts';

const errors = suite('error responses');

errors('before_error :: runs for 404, 405, sendError, HttpError, 500 and may replace status, headers, body', async () => {
  const seen: string[] = [];
  await serve(app => {
    app.hook('before_error', (ctx, error) => {
      seen.push(`${ctx.responseStatus}:${error instanceof HttpError ? 'http' : 'uncaught'}`);
      if (ctx.responseStatus === 404) {
        ctx.contentType('html');
        ctx.responseBody = `<h1>Not here: ${ctx.path}</h1>`;
      }
      ctx.responseHeader('x-error-page', 'yes');
    });
    app.post('/only-post', () => 'posted');
    app.get('/denied', ctx => ctx.sendError('Not yours', 403));
    app.get('/teapot', () => { throw new HttpError(418, 'short and stout'); });
    app.get('/boom', () => { throw new Error('secret detail'); });
    app.get('/async-page', () => 'ok');
  }, async client => {
    const missing = await client.get('/nowhere');
    assert.equal([missing.status, missing.text, missing.headers.get('content-type')], [404, '<h1>Not here: /nowhere</h1>', 'text/html; charset=utf-8']);
    assert.is(missing.headers.get('x-error-page'), 'yes');
    assert.is((await client.get('/only-post')).status, 405);
    assert.is((await client.get('/denied')).text, 'Not yours');
    assert.is((await client.get('/teapot')).status, 418);
    const boom = await client.get('/boom');
    assert.is(boom.status, 500);
    assert.not.match(boom.text, /secret detail/);
    assert.is(boom.headers.get('x-error-page'), 'yes');
  }, { environment: 'production' });
  assert.equal(seen, ['404:http', '405:http', '403:http', '418:http', '500:uncaught']);
});

errors('before_error :: an async hook may render; a failing hook is logged and the default response sent', () =>
  serve(app => {
    app.hook('before_error', async ctx => {
      await new Promise(resolve => setTimeout(resolve, 5));
      if (ctx.path === '/broken') throw new Error('the error page is broken too');
      ctx.responseBody = `rendered ${ctx.responseStatus}`;
    });
  }, async client => {
    assert.is((await client.get('/rendered')).text, 'rendered 404');
    const broken = await client.get('/broken');
    assert.equal([broken.status, broken.text], [404, 'No route for GET /broken']);
  }));

errors('before_error :: a 503 from a store that cannot save passes through it too', () => {
  const seen: unknown[] = [];
  const app = createApp(withoutCsrf({ log: 'none' }), { sessionEngine: new FailingFlushEngine(new Error('disk on fire')) });
  app.hook('before_error', (ctx, error) => {
    seen.push(error);
    ctx.responseBody = 'Please try again in a moment';
  });
  app.get('/write', async ctx => {
    await ctx.session('x', 1);
    return 'saved?';
  });
  return withClient(app, async client => {
    const res = await client.get('/write');
    assert.equal([res.status, res.text], [503, 'Please try again in a moment']);
    assert.instance(seen[0], SessionStoreError);
  });
});

errors('on_route_exception :: sees an uncaught exception first, before before_error; not HttpErrors', async () => {
  const order: string[] = [];
  await serve(app => {
    app.hook('on_route_exception', (_ctx, error) => void order.push(`exception:${(error as Error).message}`));
    app.hook('before_error', ctx => void order.push(`before_error:${ctx.responseStatus}`));
    app.get('/boom', () => { throw new Error('kaput'); });
    app.get('/denied', ctx => ctx.sendError('no', 403));
  }, async client => {
    await client.get('/boom');
    await client.get('/denied');
  });
  assert.equal(order, ['exception:kaput', 'before_error:500', 'before_error:403']);
});

errors('JSON :: a client that prefers JSON gets {"status", "message"}; a browser gets text', () =>
  serve(app => {
    app.get('/denied', ctx => ctx.sendError('Not yours', 403));
  }, async client => {
    const api = await client.get('/denied', { headers: { accept: 'application/json' } });
    assert.equal([api.status, api.headers.get('content-type'), api.json()], [403, 'application/json; charset=utf-8', { status: 403, message: 'Not yours' }]);
    const missing = await client.get('/nowhere', { headers: { accept: 'application/vnd.api+json' } });
    assert.equal(missing.json(), { status: 404, message: 'No route for GET /nowhere' });
    const browser = await client.get('/denied', { headers: { accept: 'text/html,application/xhtml+xml,application/json;q=0.9' } });
    assert.equal([browser.headers.get('content-type'), browser.text], ['text/plain; charset=utf-8', 'Not yours']);
  }));

errors('headers from before hooks :: survive every error response; the route\'s own do not', () =>
  serve(app => {
    app.before(ctx => {
      ctx.header('access-control-allow-origin', 'https://app.example');
      ctx.header('x-frame-options', 'DENY');
    });
    app.before(ctx => (ctx.path === '/private' ? ctx.sendError('Log in', 401) : undefined));
    app.get('/boom', ctx => {
      ctx.header('x-route', 'set before the throw');
      throw new Error('kaput');
    });
    app.post('/only-post', () => 'posted');
  }, async client => {
    for (const [path, status] of [['/nowhere', 404], ['/only-post', 405], ['/private', 401], ['/boom', 500]] as const) {
      const res = await client.get(path);
      assert.is(res.status, status, path);
      assert.is(res.headers.get('access-control-allow-origin'), 'https://app.example', path);
      assert.is(res.headers.get('x-frame-options'), 'DENY', path);
      assert.is(res.headers.get('x-route'), null, path);
    }
    assert.is((await client.get('/only-post')).headers.get('allow'), 'POST', 'a 405 keeps Allow');
  }));

errors('OPTIONS :: a known path answers 204 with Allow (CORS hooks can add theirs); unknown is 404', () =>
  serve(app => {
    app.before(ctx => {
      if (ctx.method === 'OPTIONS') ctx.header('access-control-allow-methods', 'GET, POST');
    });
    app.get('/items', () => []);
    app.post('/items', () => 'created');
    app.options('/own', () => 'my own OPTIONS');
  }, async client => {
    const preflight = await client.request('OPTIONS', '/items');
    assert.equal([preflight.status, preflight.text], [204, '']);
    assert.is(preflight.headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
    assert.is(preflight.headers.get('access-control-allow-methods'), 'GET, POST');
    assert.is((await client.request('OPTIONS', '/nowhere')).status, 404);
    assert.is((await client.request('OPTIONS', '/own')).text, 'my own OPTIONS');
  }));

const signals = suite('caught signals');

signals('redirect, halt, pass, sendError caught by user code :: still take effect, never half-applied', () =>
  serve(app => {
    app.get('/redirect', () => {
      try { dsl.redirect('/there', 303); } catch { /* a careless catch-all */ }
      return 'the rest of the page';
    });
    app.get('/halt', async ctx => {
      try { ctx.halt('halted'); } catch { /* ignored */ }
      return 'after halt';
    });
    app.get('/pass', ctx => {
      try { ctx.pass(); } catch { /* ignored */ }
      return 'first route';
    });
    app.get('/pass', () => 'second route');
    app.get('/error', ctx => {
      try { ctx.sendError('Forbidden', 403); } catch { /* ignored */ }
      return 'secret';
    });
    app.before(ctx => {
      if (ctx.path !== '/hook') return;
      try { ctx.redirect('/from-hook'); } catch { /* ignored */ }
    });
    app.get('/hook', () => 'the route ran');
  }, async client => {
    const redirected = await client.get('/redirect');
    assert.equal([redirected.status, redirected.headers.get('location'), redirected.text], [303, '/there', '']);
    assert.is((await client.get('/halt')).text, 'halted');
    assert.is((await client.get('/pass')).text, 'second route');
    const error = await client.get('/error');
    assert.equal([error.status, error.text], [403, 'Forbidden']);
    const hook = await client.get('/hook');
    assert.equal([hook.status, hook.headers.get('location')], [302, '/from-hook']);
  }));

errors('public/<status>.html :: the body of that error for a browser; JSON clients still get JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-pages-'));
  writeFileSync(join(dir, '404.html'), '<h1>Lost?</h1>');
  writeFileSync(join(dir, '500.html'), '<h1>Our fault</h1>');
  try {
    await serve(app => {
      app.get('/boom', () => { throw new Error('kaput'); });
      app.get('/denied', ctx => ctx.sendError('no', 403));
    }, async client => {
      const missing = await client.get('/nowhere');
      assert.equal([missing.status, missing.headers.get('content-type'), missing.text], [404, 'text/html; charset=utf-8', '<h1>Lost?</h1>']);
      assert.equal([(await client.get('/boom')).text], ['<h1>Our fault</h1>']);
      assert.is((await client.get('/denied')).text, 'no', 'no 403.html: the default body');
      assert.equal((await client.get('/nowhere', { headers: { accept: 'application/json' } })).json(), { status: 404, message: 'No route for GET /nowhere' });
    }, { public_dir: dir, environment: 'production' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An app on a folder with views/ and public/ (a 500.html and a 503.html, as a scaffolded app has). */
function siteApp(environment: string, files: Record<string, string> = {}): { app: ReturnType<typeof createApp>; root: string } {
  const root = siteDir({
    'views/broken.eta': 'line 1\nline 2\n<%= it.missing.deep %>\n',
    'public/500.html': '<h1>Our fault</h1>',
    'public/503.html': '<h1>Back soon</h1>',
    'public/404.html': '<h1>Lost?</h1>',
    ...files,
  });
  const app = createApp({ log: 'none', environment, views: join(root, 'views'), public_dir: join(root, 'public'), layout: false });
  app.get('/broken', () => dsl.template('broken'));
  app.get('/boom', () => { throw new Error('kaput <script>alert(1)</script>'); });
  app.get('/thrown-string', () => { throw 'not an Error'; });
  app.get('/store', () => { throw new SessionStoreError('Redis did not answer', { cause: new Error('ECONNREFUSED 127.0.0.1:6379') }); });
  app.get('/teapot', () => { throw new HttpError(418, 'short and stout'); });
  return { app, root };
}

errors('development :: a template error shows its message and the view file:line, though public/500.html exists', async () => {
  const { app, root } = siteApp('development');
  try {
    await withClient(app, async client => {
      const res = await client.get('/broken');
      assert.is(res.status, 500);
      assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.not.match(res.text, /Our fault/);
      assert.match(res.text, /TemplateError/);
      assert.match(res.text, /Cannot read properties of undefined \(reading &#39;deep&#39;\)/);
      assert.match(res.text, /views\/broken\.eta:3/);
      assert.match(res.text, /views\.ts:\d+/, 'the stack');
    });
  } finally {
    removeDir(root);
  }
});

errors('development :: an uncaught exception shows message, where it was thrown and the stack, escaped', async () => {
  const { app, root } = siteApp('development');
  try {
    await withClient(app, async client => {
      const res = await client.get('/boom');
      assert.is(res.status, 500);
      assert.match(res.text, /kaput &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.not.match(res.text, /<script>/);
      assert.match(res.text, /test\/request\/error-hooks\.test\.ts:\d+/, 'the file and line of the throw');
      const thrown = await client.get('/thrown-string');
      assert.is(thrown.status, 500);
      assert.match(thrown.text, /not an Error/);
      const api = await client.get('/boom', { headers: { accept: 'application/json' } });
      assert.is(api.json().status, 500);
      assert.match(api.json().message, /kaput <script>alert\(1\)<\/script>\n\s+at /, 'JSON clients get the stack in the message');
    });
  } finally {
    removeDir(root);
  }
});

errors('development :: a 503 from the store shows its cause over public/503.html; an exposed 4xx and 404.html stay as they are', async () => {
  const { app, root } = siteApp('development');
  try {
    await withClient(app, async client => {
      const store = await client.get('/store');
      assert.is(store.status, 503);
      assert.match(store.text, /SessionStoreError/);
      assert.match(store.text, /Redis did not answer/);
      assert.match(store.text, /ECONNREFUSED 127\.0\.0\.1:6379/);
      assert.equal([(await client.get('/teapot')).text], ['short and stout']);
      assert.equal([(await client.get('/nowhere')).text], ['<h1>Lost?</h1>']);
    });
  } finally {
    removeDir(root);
  }
});

errors('production :: the same errors show public/<status>.html and nothing internal', async () => {
  const { app, root } = siteApp('production');
  try {
    await withClient(app, async client => {
      for (const path of ['/broken', '/boom', '/thrown-string']) {
        const res = await client.get(path);
        assert.equal([res.status, res.text], [500, '<h1>Our fault</h1>'], path);
        const api = await client.get(path, { headers: { accept: 'application/json' } });
        assert.equal(api.json(), { status: 500, message: 'Internal Server Error' }, path);
      }
      assert.equal([(await client.get('/store')).text], ['<h1>Back soon</h1>']);
      assert.equal([(await client.get('/teapot')).text], ['short and stout']);
    });
  } finally {
    removeDir(root);
  }
  const { app: bare, root: bareRoot } = siteApp('production', {});
  removeDir(join(bareRoot, 'public'));
  try {
    await withClient(bare, async client => {
      const res = await client.get('/broken');
      assert.equal([res.status, res.text], [500, 'Internal Server Error'], 'no 500.html: the reason phrase');
    });
  } finally {
    removeDir(bareRoot);
  }
});

errors('show_errors :: cannot be turned on outside development, in createApp or setting()', () => {
  for (const environment of ['production', 'test']) {
    assert.throws(() => createApp({ environment, show_errors: true }), (e: unknown) => e instanceof ConfigError && e.key === 'show_errors' && e.message.includes(environment));
    const app = createApp({ log: 'none', environment });
    assert.throws(() => app.setting('show_errors', true), (e: unknown) => e instanceof ConfigError && e.key === 'show_errors');
    assert.is(app.settings.show_errors, false);
  }
  assert.is(createApp({ environment: 'development', show_errors: false }).settings.show_errors, false);
});

errors('development :: show_errors: false hides the details there too (public/500.html, or the reason phrase)', async () => {
  const { app, root } = siteApp('development');
  app.setting('show_errors', false);
  try {
    await withClient(app, async client => {
      assert.equal([(await client.get('/broken')).text], ['<h1>Our fault</h1>']);
    });
  } finally {
    removeDir(root);
  }
});

errors('before_error :: a value it returns is the body, as a route\'s is (a page rendered with template)', async () => {
  const { app, root } = siteApp('production', { 'views/oops.eta': '<h1>Oops: <%= it.status %></h1>' });
  app.hook('before_error', ctx => (ctx.responseStatus === 418 ? dsl.template('oops', { status: ctx.responseStatus }) : undefined));
  app.hook('before_error', ctx => (ctx.path === '/boom' ? { error: 'json please' } : undefined));
  app.hook('before_error', ctx => void ctx.responseHeader('x-last-hook', 'ran'));
  app.hook('before_error', ctx => (ctx.responseStatus === 503 ? ctx.halt('<p>halted page</p>') : undefined));
  try {
    await withClient(app, async client => {
      const teapot = await client.get('/teapot');
      assert.equal([teapot.status, teapot.headers.get('content-type'), teapot.text], [418, 'text/html; charset=utf-8', '<h1>Oops: 418</h1>']);
      assert.is(teapot.headers.get('x-last-hook'), 'ran', 'the hooks after it still run');
      const boom = await client.get('/boom');
      assert.equal([boom.status, boom.headers.get('content-type'), boom.json()], [500, 'application/json; charset=utf-8', { error: 'json please' }]);
      const missing = await client.get('/nowhere');
      assert.equal([missing.status, missing.text], [404, '<h1>Lost?</h1>'], 'undefined changes nothing');
      const halted = await client.get('/store');
      assert.equal([halted.status, halted.headers.get('content-type'), halted.text], [503, 'text/html; charset=utf-8', '<p>halted page</p>'], 'halt(page) is HTML too');
    });
  } finally {
    removeDir(root);
  }
});

errors('before_error :: a returned value keeps a Content-Type the hook set', () =>
  serve(app => {
    app.hook('before_error', ctx => {
      ctx.contentType('text');
      return `plain ${ctx.responseStatus} <b>`;
    });
  }, async client => {
    const res = await client.get('/nowhere');
    assert.equal([res.status, res.headers.get('content-type'), res.text], [404, 'text/plain; charset=utf-8', 'plain 404 <b>']);
  }));

errors.run();
signals.run();
