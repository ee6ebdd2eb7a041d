/**
 * What `quickstep new` writes, read as the app reads it: its config.yml through loadConfig with a
 * user's environment, its public/503.html on a store that is down, its package.json's scripts.
 * test/package/package.test.ts installs a scaffold from the tarball and runs, tests and
 * type-checks it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appFiles } from '../../src/cli/app-files.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createApp } from '../../src/create-app.ts';
import { csrfToken, session, template } from '../../src/dsl.ts';
import { freePort } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';
import { stderrOf } from '../support/stderr.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const repoManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

const test = suite<{ dir: string }>('cli :: the files quickstep new writes', { dir: '' });

test.before(ctx => {
  ctx.dir = siteDir(appFiles('shop-app', '1.2.3'));
});
test.after(ctx => {
  removeDir(ctx.dir);
});

test('config.yml runs on Memory (ids hashed) when the environment names no engine', ctx => {
  const settings = loadConfig({ dir: ctx.dir, environment: 'production', env: {} });
  assert.is(settings.session.engineName, 'Memory');
  assert.is(settings.session.policy.hash_ids, true);
});

test('config.yml: SESSION_ENGINE=Redis REDIS_URL=... choose Redis at that URL, ids hashed', ctx => {
  const env = { SESSION_ENGINE: 'Redis', REDIS_URL: 'redis://10.0.0.7:6380/2' };
  const settings = loadConfig({ dir: ctx.dir, environment: 'production', env });
  assert.is(settings.session.engineName, 'Redis');
  assert.is(settings.session.engineOptions.url, 'redis://10.0.0.7:6380/2');
  assert.is(settings.session.policy.hash_ids, true);
});

test('config.yml: SESSION_ENGINE=Redis alone is the Redis on 127.0.0.1:6379', ctx => {
  const settings = loadConfig({ dir: ctx.dir, environment: 'production', env: { SESSION_ENGINE: 'Redis' } });
  assert.is(settings.session.engineOptions.url, 'redis://127.0.0.1:6379');
});

test('config.yml: a mistyped SESSION_ENGINE is a start-up error naming the engine', ctx => {
  assert.throws(() => loadConfig({ dir: ctx.dir, environment: 'production', env: { SESSION_ENGINE: 'Reddis' } }), /Reddis/);
});

test('public/503.html is the page a visitor gets while the session store is down', async ctx => {
  const down = await freePort(); // nothing listens there
  const settings = loadConfig({ dir: ctx.dir, environment: 'production', env: { SESSION_ENGINE: 'Redis', REDIS_URL: `redis://127.0.0.1:${down}` } });
  const app = createApp(settings);
  // A write: a request without a cookie reads nothing from the store.
  app.get('/visit', async () => {
    await session('visited', true);
    return 'stored';
  });
  // production.yml logs warnings: the outage's one line is kept out of the test's output.
  await stderrOf(() => withClient(app, async client => {
    const res = await client.get('/visit');
    assert.is(res.status, 503);
    assert.is(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.text, /<h1>Back in a moment<\/h1>/);
    assert.match(res.text, /<link rel="stylesheet" href="\/css\/style.css">/, 'styled as 404.html and 500.html are');
  }));
});

test('CSRF is on in a new app: its login form carries the token, a POST without it is a 403', async ctx => {
  const settings = loadConfig({ dir: ctx.dir, environment: 'production', env: {} });
  assert.is(settings.session.policy.csrf, true);
  const app = createApp(settings);
  // The scaffold's own routes.ts imports 'quickstep' (run by test/package/package.test.ts); its views here.
  app.get('/login', async () => template('login', { title: 'Log in', csrf: await csrfToken() }));
  app.post('/login', () => 'logged in');
  await withClient(app, async client => {
    const token = /<input type="hidden" name="_csrf" value="([^"]+)">/.exec((await client.get('/login')).text)?.[1];
    assert.ok(token, 'the form has its token');
    assert.is((await client.post('/login', { form: { name: 'ann' } })).status, 403);
    assert.is((await client.post('/login', { form: { name: 'ann', _csrf: token! } })).text, 'logged in');
  });
});

test('a page looks like the start of an app: navigation, favicon, the flash message, log in or log out', async ctx => {
  const app = createApp(loadConfig({ dir: ctx.dir, environment: 'production', env: {} }));
  app.get('/', async () => template('index', { title: 'Home', user: await session('user'), notice: 'Welcome, ann.', csrf: await csrfToken() }));
  app.get('/as/:user', async c => template('index', { title: 'Home', user: c.params.user, csrf: await csrfToken() }));
  await withClient(app, async client => {
    const anonymous = (await client.get('/')).text;
    assert.match(anonymous, /<title>Home · shop-app<\/title>/);
    assert.match(anonymous, /<link rel="icon" href="\/favicon.svg" type="image\/svg\+xml">/);
    assert.match(anonymous, /<nav>[\s\S]*<a class="brand" href="\/">shop-app<\/a>[\s\S]*<a href="\/login">Log in<\/a>[\s\S]*<\/nav>/);
    assert.match(anonymous, /<p class="notice" role="status">Welcome, ann.<\/p>/);
    assert.not.match(anonymous, /Log out/);
    const named = (await client.get('/as/%3Cb%3Eann')).text;
    assert.match(named, /Logged in as <strong>&lt;b&gt;ann<\/strong>/, 'the name escaped');
    assert.match(named, /<form method="post" action="\/logout"><input type="hidden" name="_csrf" value="[\w-]{43}"><button>Log out<\/button><\/form>/);
    assert.not.match(named, /class="notice"/, 'no message, no empty box');
    const icon = await client.get('/favicon.svg');
    assert.equal([icon.status, icon.headers.get('content-type')], [200, 'image/svg+xml; charset=utf-8']);
    assert.match(icon.text, /^<svg /);
    for (const page of ['/nowhere']) assert.match((await client.get(page)).text, /<link rel="icon" href="\/favicon.svg"/, 'the error pages too');
  });
});

test('package.json: npm run typecheck runs tsc, with typescript the version Quickstep is built with', ctx => {
  const manifest = JSON.parse(readFileSync(join(ctx.dir, 'package.json'), 'utf8'));
  assert.is(manifest.scripts.typecheck, 'tsc --noEmit');
  assert.is(manifest.devDependencies.typescript, repoManifest.devDependencies.typescript);
  assert.is(manifest.dependencies.quickstep, '^1.2.3');
});

test('tsconfig.json: the app imports its own files as .ts, so the checker must allow that and emit nothing', ctx => {
  const options = JSON.parse(readFileSync(join(ctx.dir, 'tsconfig.json'), 'utf8')).compilerOptions;
  assert.equal(
    [options.allowImportingTsExtensions, options.noEmit, options.strict, options.erasableSyntaxOnly, options.module],
    [true, true, true, true, 'nodenext'],
  );
});

test.run();
