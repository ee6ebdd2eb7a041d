/** template(): escaping, the layout, the tokens, dev reload, errors that name the file and line, engines by name. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import { ConfigError } from '../../src/base/errors.ts';
import type { SettingsInput } from '../../src/config/config.ts';
import type { App } from '../../src/server/app.ts';
import { session, template, vars } from '../../src/dsl.ts';
import { registerTemplateEngine } from '../../src/views/engine-registry.ts';
import { withClient } from '../support/serve.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';

const LAYOUT = '<main data-env="<%= it.settings.environment %>"><%~ it.content %></main>';

function viewsApp(files: Record<string, string>, settings: SettingsInput = {}): { app: App; root: string } {
  const root = siteDir(files);
  const app = createApp({ log: 'none', environment: 'development', views: join(root, 'views'), public_dir: join(root, 'public'), ...settings });
  return { app, root };
}

const views = suite('template()');

views('escapes tokens by default; <%~ %> is raw', async () => {
  const { app, root } = viewsApp({ 'views/hello.eta': '<p><%= it.name %></p><%~ it.trusted %>' });
  app.get('/', () => template('hello', { name: '<script>alert("x")</script> & \'', trusted: '<b>ok</b>' }, { layout: false }));
  await withClient(app, async client => {
    const res = await client.get('/');
    assert.is(res.status, 200);
    assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.is(res.text, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;</p><b>ok</b>');
  });
  removeDir(root);
});

views('layout :: views/layouts/main wraps the view; layout:false and another layout per call', async () => {
  const { app, root } = viewsApp({ 'views/page.eta': '<p>page</p>', 'views/layouts/main.eta': LAYOUT, 'views/layouts/bare.eta': '[<%~ it.content %>]' });
  app.get('/main', () => template('page'));
  app.get('/none', () => template('page', {}, { layout: false }));
  app.get('/bare', () => template('page', {}, { layout: 'bare' }));
  app.get('/missing', () => template('page', {}, { layout: 'nope' }));
  await withClient(app, async client => {
    assert.is((await client.get('/main')).text, '<main data-env="development"><p>page</p></main>');
    assert.is((await client.get('/none')).text, '<p>page</p>');
    assert.is((await client.get('/bare')).text, '[<p>page</p>]');
    const missing = await client.get('/missing');
    assert.is(missing.status, 500);
    assert.match(missing.text, /layout &quot;nope&quot;: there is no .*layouts\/nope\.eta/, 'the development page, escaped');
  });
  removeDir(root);
});

views('layout :: the setting chooses it; layout: false turns it off; no main layout file = none', async () => {
  const files = { 'views/page.eta': 'page', 'views/layouts/main.eta': 'main(<%~ it.content %>)', 'views/layouts/other.eta': 'other(<%~ it.content %>)' };
  for (const [layout, expected] of [['other', 'other(page)'], [false, 'page']] as const) {
    const { app, root } = viewsApp(files, { layout });
    app.get('/', () => template('page'));
    await withClient(app, async client => assert.is((await client.get('/')).text, expected));
    removeDir(root);
  }
  const { app, root } = viewsApp({ 'views/page.eta': 'page' });
  app.get('/', () => template('page'));
  await withClient(app, async client => assert.is((await client.get('/')).text, 'page'));
  removeDir(root);
});

views('tokens :: request, params, vars, settings, session; the user\'s tokens win', async () => {
  const { app, root } = viewsApp({
    'views/tokens.eta': '<%= it.request.path %>|<%= it.params.id %>/<%= it.params.q %>|<%= it.vars.who %>|<%= it.settings.environment %>|<%= it.session?.user ?? "anon" %>|<%= it.extra %>',
  });
  app.before(() => void (vars().who = 'hooked'));
  app.get('/login', async () => { await session('user', 'ann'); return 'ok'; });
  app.get('/t/:id', () => template('tokens', { extra: 'mine' }));
  app.get('/override', () => template('tokens', { settings: { environment: 'mine' }, extra: 'x' }));
  await withClient(app, async client => {
    assert.is((await client.fork().get('/t/7?q=a')).text, '/t/7|7/a|hooked|development|anon|mine', 'no session cookie: no session, none created');
    await client.get('/login');
    const res = await client.get('/t/8?q=b');
    assert.is(res.text, '/t/8|8/b|hooked|development|ann|mine');
    assert.is(res.headers.get('set-cookie'), null, 'reading the session for a template writes nothing');
    assert.match((await client.get('/override')).text, /\|mine\|/);
  });
  removeDir(root);
});

views('development :: an edited template shows on the next request', async () => {
  const { app, root } = viewsApp({ 'views/v.eta': 'one' });
  app.get('/', () => template('v', {}, { layout: false }));
  await withClient(app, async client => {
    assert.is((await client.get('/')).text, 'one');
    writeFileSync(join(root, 'views/v.eta'), 'two');
    assert.is((await client.get('/')).text, 'two');
  });
  removeDir(root);
});

views('production :: a template is compiled once and kept', async () => {
  const { app, root } = viewsApp({ 'views/v.eta': 'one' }, { environment: 'production' });
  app.get('/', () => template('v', {}, { layout: false }));
  await withClient(app, async client => {
    assert.is((await client.get('/')).text, 'one');
    writeFileSync(join(root, 'views/v.eta'), 'two');
    assert.is((await client.get('/')).text, 'one');
  });
  removeDir(root);
});

views('errors :: a runtime error is a 500 naming the file and line (development)', async () => {
  const { app, root } = viewsApp({ 'views/broken.eta': 'line 1\nline 2\n<%= it.missing.deep %>\n' });
  app.get('/', () => template('broken', {}, { layout: false }));
  await withClient(app, async client => {
    const res = await client.get('/');
    assert.is(res.status, 500);
    assert.match(res.text, /broken\.eta:3/);
  });
  removeDir(root);
});

views('errors :: a syntax error names the file and line', async () => {
  const { app, root } = viewsApp({ 'views/unclosed.eta': 'ok\n<%= it.x\n' });
  app.get('/', () => template('unclosed', {}, { layout: false }));
  await withClient(app, async client => {
    const res = await client.get('/');
    assert.is(res.status, 500);
    assert.match(res.text, /unclosed\.eta/);
    assert.match(res.text, /line 2/);
  });
  removeDir(root);
});

views('errors :: a JavaScript syntax error inside a tag names the file and the line', async () => {
  const { app, root } = viewsApp({ 'views/js.eta': 'one\n<% if (it.x) { %>\nok\n<% if ( { %>\n<% } %>\n' });
  app.get('/', () => template('js', {}, { layout: false }));
  await withClient(app, async client => {
    const res = await client.get('/');
    assert.is(res.status, 500);
    assert.match(res.text, /js\.eta: line 4: Bad template syntax/);
  });
  removeDir(root);
});

views('errors :: an unknown template is a 500 naming it; production shows nothing internal', async () => {
  for (const environment of ['development', 'production']) {
    const { app, root } = viewsApp({}, { environment });
    app.get('/', () => template('nowhere'));
    app.get('/escape', () => template('../secret'));
    await withClient(app, async client => {
      const res = await client.get('/');
      assert.is(res.status, 500);
      if (environment === 'development') assert.match(res.text, /template\(&quot;nowhere&quot;\): there is no .*views\/nowhere\.eta/);
      else assert.is(res.text, 'Internal Server Error');
      assert.is((await client.get('/escape')).status, 500);
    });
    removeDir(root);
  }
});

views('engines :: an unknown engine or option is a ConfigError; a registered engine is used by name', async () => {
  assert.throws(() => createApp({ template: 'Jinja' }), (e: unknown) => e instanceof ConfigError && /template/.test(e.message) && /Eta/.test(e.message));
  assert.throws(() => createApp({ engines: { template: { Eta: { extention: '.tt' } } } }), (e: unknown) => e instanceof ConfigError && /engines\.template\.Eta\.extention/.test(e.message));
  registerTemplateEngine('Upper', {
    options: {},
    create: (_options, context) => ({
      extension: '.up',
      render: (name, tokens) => `${context.views.length > 0}:${name}:${String(tokens.word).toUpperCase()}`,
    }),
  });
  const { app, root } = viewsApp({ 'views/shout.up': '' }, { template: 'upper', layout: false });
  app.get('/', () => template('shout', { word: 'hi' }));
  await withClient(app, async client => assert.is((await client.get('/')).text, 'true:shout.up:HI'));
  removeDir(root);
});

views('engines :: the extension option', async () => {
  const { app, root } = viewsApp({ 'views/page.tt': 'tt <%= it.a %>' }, { engines: { template: { Eta: { extension: '.tt' } } }, layout: false });
  app.get('/', () => template('page', { a: 1 }));
  await withClient(app, async client => assert.is((await client.get('/')).text, 'tt 1'));
  removeDir(root);
});

views.run();
