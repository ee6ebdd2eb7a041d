/** Public files: served before routes, headers, 304, Range, HEAD, no dotfiles, no way out of the folder. */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import type { SettingsInput } from '../../src/config/config.ts';
import type { App } from '../../src/server/app.ts';
import { PublicFiles } from '../../src/response/public-files.ts';
import { withClient, withoutCsrf } from '../support/serve.ts';
import { rawRequest, removeDir, siteDir, writeFiles } from '../support/site-dir.ts';

const CSS = 'body { color: red }\n';
const FILES = {
  'public/css/site.css': CSS,
  'public/hello.txt': 'hello world',
  'public/404.html': '<h1>Not here</h1>',
  'public/.secret': 'dot',
  'public/.git/config': 'dot dir',
  'public/css/.env': 'nested dot',
  'secret.txt': 'OUTSIDE',
  'views/.keep': '',
};

let hooks = 0;
function siteApp(settings: SettingsInput = {}): { app: App; root: string } {
  const root = siteDir(FILES);
  const app = createApp(withoutCsrf({ log: 'none', views: join(root, 'views'), public_dir: join(root, 'public'), ...settings }));
  app.before(() => void hooks++);
  app.get('/hello', () => 'route');
  app.get('/hello.txt', () => 'the route, not the file');
  app.get('/**', ctx => `route for ${ctx.path}`);
  return { app, root };
}

const files = suite('public files');

files('GET :: the file with Content-Type, Content-Length, ETag, Last-Modified; before the routes, no hooks', async () => {
  const { app, root } = siteApp();
  hooks = 0;
  await withClient(app, async client => {
    const res = await client.get('/css/site.css');
    assert.is(res.status, 200);
    assert.is(res.text, CSS);
    assert.is(res.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.is(res.headers.get('content-length'), String(CSS.length));
    assert.match(res.headers.get('etag') ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    assert.ok(Date.parse(res.headers.get('last-modified') ?? '') > 0);
    assert.is(res.headers.get('accept-ranges'), 'bytes');
    assert.is((await client.get('/hello.txt')).text, 'hello world', 'a file wins over a route, as in Dancer2');
    assert.is(hooks, 0, 'before hooks do not run for public files');
    assert.is((await client.get('/hello')).text, 'route');
    assert.is((await client.get('/css/none.css')).text, 'route for /css/none.css', 'no such file: the routes answer');
    assert.is((await client.get('/css/')).text, 'route for /css/', 'a folder is not a file');
    const post = await client.post('/hello.txt');
    assert.is(post.status, 405, 'only GET and HEAD: a POST goes to the routes');
    assert.is.not(post.text, 'hello world');
  });
  removeDir(root);
});

files('HEAD :: the headers of GET, no body', async () => {
  const { app, root } = siteApp();
  await withClient(app, async client => {
    const res = await rawRequest(client.url, '/css/site.css', { method: 'HEAD' });
    assert.is(res.status, 200);
    assert.is(res.headers['content-length'], String(CSS.length));
    assert.is(res.headers['content-type'], 'text/css; charset=utf-8');
    assert.is(res.text, '');
  });
  removeDir(root);
});

files('traversal :: no encoding of .. (or \\, or NUL) leaves the folder', async () => {
  const { app, root } = siteApp();
  await withClient(app, async client => {
    const attempts = [
      '/css/../../secret.txt', '/../secret.txt', '/css/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt',
      '/css/%2e%2e/%2e%2e/secret.txt', '/css%2f..%2f..%2fsecret.txt', '/css/%2E%2E%2F%2E%2E%2Fsecret.txt',
      '/css/..%5c..%5csecret.txt', '/css\\..\\..\\secret.txt', '/%5c..%5csecret.txt', '/css/%252e%252e/%252e%252e/secret.txt',
      '/hello.txt%00.css', '/hello.txt%00', '/css/site.css%00', '/%00/../secret.txt',
    ];
    for (const path of attempts) {
      const res = await rawRequest(client.url, path);
      assert.is.not(res.text, 'OUTSIDE', path);
      assert.ok(res.text.startsWith('route for') || res.status === 400, `${path} -> ${res.status} ${res.text}`);
      assert.is.not(res.text, 'hello world', `${path} must not be served as hello.txt`);
    }
  });
  removeDir(root);
});

files('dotfiles :: never served, at any depth or encoding', async () => {
  const { app, root } = siteApp();
  await withClient(app, async client => {
    for (const path of ['/.secret', '/.git/config', '/css/.env', '/%2esecret', '/css/%2Eenv', '/./hello.txt']) {
      const res = await rawRequest(client.url, path);
      assert.ok(res.text.startsWith('route for'), `${path} -> ${res.status} ${res.text}`);
    }
  });
  removeDir(root);
});

files('304 :: If-None-Match and If-Modified-Since; a changed ETag is a 200', async () => {
  const { app, root } = siteApp();
  await withClient(app, async client => {
    const first = await client.get('/hello.txt');
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const byTag = await client.get('/hello.txt', { headers: { 'if-none-match': etag } });
    assert.is(byTag.status, 304);
    assert.is(byTag.text, '');
    assert.is(byTag.headers.get('etag'), etag);
    assert.is((await client.get('/hello.txt', { headers: { 'if-none-match': `"other", ${etag}` } })).status, 304, 'one of a list');
    assert.is((await client.get('/hello.txt', { headers: { 'if-none-match': '*' } })).status, 304);
    assert.is((await client.get('/hello.txt', { headers: { 'if-modified-since': lastModified } })).status, 304);
    assert.is((await client.get('/hello.txt', { headers: { 'if-none-match': '"stale"', 'if-modified-since': lastModified } })).status, 200, 'If-None-Match decides alone');
    assert.is((await client.get('/hello.txt', { headers: { 'if-modified-since': new Date(0).toUTCString() } })).status, 200);
    assert.is((await client.head('/hello.txt', { headers: { 'if-none-match': etag } })).status, 304);
  });
  removeDir(root);
});

files('Range :: 206 with Content-Range; suffix and open ranges; 416 past the end; bad syntax is the whole file', async () => {
  const { app, root } = siteApp();
  await withClient(app, async client => {
    const part = await client.get('/hello.txt', { headers: { range: 'bytes=0-4' } });
    assert.is(part.status, 206);
    assert.is(part.text, 'hello');
    assert.is(part.headers.get('content-range'), 'bytes 0-4/11');
    assert.is(part.headers.get('content-length'), '5');
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=6-' } })).text, 'world');
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=-5' } })).text, 'world');
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=6-100' } })).text, 'world');
    const beyond = await client.get('/hello.txt', { headers: { range: 'bytes=11-' } });
    assert.is(beyond.status, 416);
    assert.is(beyond.headers.get('content-range'), 'bytes */11');
    const bad = await client.get('/hello.txt', { headers: { range: 'bytes=5-2' } });
    assert.is(bad.status, 200);
    assert.is(bad.text, 'hello world');
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=0-1,4-5' } })).status, 200, 'several ranges: the whole file');
    const etag = part.headers.get('etag')!;
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=0-4', 'if-range': etag } })).status, 206);
    assert.is((await client.get('/hello.txt', { headers: { range: 'bytes=0-4', 'if-range': '"old"' } })).status, 200, 'If-Range for another version: the whole file');
  });
  removeDir(root);
});

files('static_handler: false :: nothing is served from public/', async () => {
  const { app, root } = siteApp({ static_handler: false });
  await withClient(app, async client => {
    assert.is((await client.get('/css/site.css')).text, 'route for /css/site.css');
  });
  removeDir(root);
});

files('cost :: a path whose first segment is no top-level name is decided without I/O', () => {
  const root = siteDir(FILES);
  const publicFiles = new PublicFiles(join(root, 'public'), false);
  assert.is(publicFiles.find('/hello'), undefined, 'no Promise: no stat was started');
  assert.is(publicFiles.find('/'), undefined);
  assert.is(publicFiles.find('/api/users/1'), undefined);
  assert.is(publicFiles.find('/.git/config'), undefined);
  assert.instance(publicFiles.find('/css/site.css'), Promise, 'a candidate costs one stat');
  removeDir(root);
});

files('development :: a top-level file added while running is served (names re-read at most once a second)', async () => {
  const { app, root } = siteApp({ environment: 'development' });
  await withClient(app, async client => {
    assert.is((await client.get('/new.txt')).text, 'route for /new.txt');
    writeFiles(root, { 'public/new.txt': 'fresh' });
    await sleep(1100);
    assert.is((await client.get('/new.txt')).text, 'fresh');
  });
  removeDir(root);
});

files('errorPage :: public/<status>.html when it exists', () => {
  const root = siteDir(FILES);
  const publicFiles = new PublicFiles(join(root, 'public'), false);
  assert.is(publicFiles.errorPage(404), '<h1>Not here</h1>');
  assert.is(publicFiles.errorPage(500), undefined);
  removeDir(root);
});

files.run();
