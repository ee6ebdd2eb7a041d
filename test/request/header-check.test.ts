import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { App } from '../../src/server/app.ts';
import { createApp } from '../../src/create-app.ts';
import type { Context } from '../../src/request/context.ts';
import { raw, statusLine } from '../support/raw.ts';

/**
 * Serves an app whose `GET /start` stores n=1 in a new session and whose `GET /read` answers n,
 * plus the routes `define` adds; `run` gets the port and the session cookie of a stored session.
 */
async function withSession(define: (app: App) => void, run: (port: number, cookie: string) => Promise<void>, environment = 'production'): Promise<void> {
  const app = createApp({ log: 'none', environment });
  app.get('/start', async ctx => void (await ctx.session('n', 1)));
  app.get('/read', async ctx => String(await ctx.session('n')));
  define(app);
  const { port } = await app.listen(0, '127.0.0.1');
  try {
    const start = await raw(port, 'GET /start HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const cookie = /set-cookie: ([^;]+)/i.exec(start)?.[1];
    assert.ok(cookie, 'a session cookie');
    await run(port, cookie);
  } finally {
    await app.close();
  }
}

const get = (port: number, path: string, cookie: string) =>
  raw(port, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`, 'latin1'));

/** The route wrote n=2 to the session, then produced an unsendable header: 500, nothing saved. */
async function refusedAndNotSaved(port: number, cookie: string, path: string): Promise<void> {
  const response = await get(port, path, cookie);
  assert.is(statusLine(response), 'HTTP/1.1 500 Internal Server Error', path);
  assert.not.match(response, /evil/i, `${path}: nothing injected`);
  assert.match(response, /\r\n\r\nInternal Server Error$/, `${path}: the production 500 body`);
  assert.is((await get(port, '/read', cookie)).split('\r\n\r\n')[1], '1', `${path}: the session write was not stored`);
}

const refused = suite('header checks :: an invalid header is an uncaught 500 that saves nothing');

const writeThen = (bad: (ctx: Context) => unknown) => async (ctx: Context) => {
  await ctx.session('n', 2);
  return bad(ctx);
};

refused('redirect() with CR LF :: 500 Internal Server Error, no injected header', () =>
  withSession(app => app.get('/go', writeThen(ctx => ctx.redirect('/x\r\nSet-Cookie: evil=1'))), (port, cookie) =>
    refusedAndNotSaved(port, cookie, '/go')));

refused('header() with LF, NUL or a character above U+00FF in the value, or a bad name :: 500', () =>
  withSession(app => {
    app.get('/lf', writeThen(ctx => ctx.header('X-A', 'a\nevil: 1')));
    app.get('/nul', writeThen(ctx => ctx.header('X-A', 'a\0b')));
    app.get('/wide', writeThen(ctx => ctx.header('X-A', '日本')));
    app.get('/list', writeThen(ctx => ctx.header('X-A', ['fine', 'a\r\nevil: 1'])));
    app.get('/name', writeThen(ctx => ctx.header('X-A: evil', '1')));
  }, async (port, cookie) => {
    for (const path of ['/lf', '/nul', '/wide', '/list', '/name']) await refusedAndNotSaved(port, cookie, path);
  }));

refused('cookie() with CR LF in an option or the value :: 500', () =>
  withSession(app => {
    app.get('/path', writeThen(ctx => ctx.cookie('a', 'b', { path: '/\r\nevil: 1' })));
    app.get('/raw', writeThen(ctx => ctx.cookie('a', 'b\r\nevil: 1', { encode: value => value })));
  }, async (port, cookie) => {
    for (const path of ['/path', '/raw']) await refusedAndNotSaved(port, cookie, path);
  }));

refused('a header set straight on ctx.responseHeaders :: checked before the session commit', () =>
  withSession(app => {
    app.get('/direct', writeThen(ctx => void (ctx.responseHeaders['x-a'] = 'a\r\nevil: 1')));
    app.after(ctx => void (ctx.path === '/after' && (ctx.responseHeaders['x-b'] = ['a\nevil: 1'])));
    app.get('/after', writeThen(() => 'x'));
  }, async (port, cookie) => {
    for (const path of ['/direct', '/after']) await refusedAndNotSaved(port, cookie, path);
  }));

refused('the TypeError names the header and the value (shown in development)', () =>
  withSession(app => {
    app.get('/h', ctx => ctx.header('X-A', 'a\nb'));
    app.get('/r', ctx => ctx.redirect('/x\r\ny'));
  }, async (port, cookie) => {
    const header = (await get(port, '/h', cookie)).split('\r\n\r\n')[1] ?? '';
    assert.match(header, /<h2>TypeError<\/h2>\n<pre>header\(&quot;X-A&quot;, &quot;a\\nb&quot;\): /);
    const redirect = (await get(port, '/r', cookie)).split('\r\n\r\n')[1] ?? '';
    assert.match(redirect, /<h2>TypeError<\/h2>\n<pre>redirect\(&quot;\/x\\r\\ny&quot;\): /);
  }, 'development'));

const lastResort = suite('writing a response fails anyway :: a 500 with its own reason phrase');

lastResort('unchecked bad header after status 302, no session :: "500 Internal Server Error", never "500 Found"', async () => {
  const app = createApp({ log: 'none', environment: 'production' });
  app.get('/', ctx => {
    ctx.status(302);
    ctx.responseHeaders.location = '/x\r\nSet-Cookie: evil=1';
  });
  app.get('/ok', () => 'fine');
  const { port } = await app.listen(0, '127.0.0.1');
  try {
    const response = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.is(statusLine(response), 'HTTP/1.1 500 Internal Server Error');
    assert.not.match(response, /evil|Found/);
    assert.match(response, /\r\ncontent-length: 21\r\n[^]*\r\n\r\nInternal Server Error$/i);
    assert.is(statusLine(await raw(port, 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')), 'HTTP/1.1 200 OK');
  } finally {
    await app.close();
  }
});

const location = suite('redirect() :: the Location is percent-encoded as Express does (encodeurl)');

location('non-ASCII, spaces and stray "%" are encoded; existing %XX escapes and URL syntax kept', async () => {
  const targets: [string, string][] = [
    ['/café', '/caf%C3%A9'],
    ['/日本?q=é#é', '/%E6%97%A5%E6%9C%AC?q=%C3%A9#%C3%A9'],
    ['/a%20b', '/a%20b'],
    ['/100%', '/100%25'],
    ['/a b"<>`{}', '/a%20b%22%3C%3E%60%7B%7D'],
    ["https://user@example.com:8080/p/[x]?a=1&b=c;d,e+f!$'()*~", "https://user@example.com:8080/p/[x]?a=1&b=c;d,e+f!$'()*~"],
    ['/lone\uD800', '/lone%EF%BF%BD'],
  ];
  const app = createApp({ log: 'none', environment: 'production' });
  app.get('/:i', ctx => ctx.redirect(targets[Number(ctx.param('i'))]![0]));
  const { port } = await app.listen(0, '127.0.0.1');
  try {
    for (const [index, [target, expected]] of targets.entries()) {
      const response = await raw(port, `GET /${index} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.is(statusLine(response), 'HTTP/1.1 302 Found', target);
      assert.is(/\r\nlocation: ([^\r]*)\r\n/.exec(response)?.[1], expected, target);
    }
  } finally {
    await app.close();
  }
});

refused.run();
lastResort.run();
location.run();
