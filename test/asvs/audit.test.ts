/**
 * The audit against two apps whose answers are known: a Quickstep app configured badly on
 * purpose (every row it fails, with the evidence a user would act on) and a hand-tuned TLS
 * server (test/asvs/hardened-server.ts) on which every row passes; and the cookie jar's browser
 * rules, on which the evidence rests.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, header, logout, param, redirect, session, type App } from 'quickstep';
import { audit, formatTable, type AuditOptions, type AuditResult } from 'quickstep/asvs';
import { CookieJar, parseSetCookieLine } from '../../src/asvs/cookie-jar.ts';
import { startHardened } from './hardened-server.ts';

/**
 * Secure off, HttpOnly off, CSRF off (and with it, on the routes that opt out, the cross-site
 * refusal), no Clear-Site-Data, every response cacheable, no new id at login, logout by GET, the
 * id echoed in a page, a cookie without SameSite: each default a user can turn off, turned off.
 */
function badApp(): App {
  const app = createApp({ log: 'none', session: 'Memory', engines: { session: { Memory: { is_secure: false, is_http_only: false, csrf: false, clear_site_data: [] } } } });
  app.before(ctx => void ctx.header('cache-control', 'private, max-age=60'));
  return app
    .get('/whoami', async () => {
      const user = await session('user');
      return { user: typeof user === 'string' ? user : null, id: (await session()).id };
    })
    .post('/login', { csrf: false }, async () => {
      await session('user', String(param('user')));
      header('set-cookie', 'theme=dark; Path=/');
      return redirect('/whoami', 303);
    })
    .get('/logout', async () => { await logout(); return redirect('/whoami', 303); })
    .post('/logout', { csrf: false }, async () => { await logout(); return redirect('/whoami', 303); });
}

const BAD: AuditOptions = {
  login: { path: '/login', fields: { user: 'mallory' } },
  logout: { path: '/logout' },
  loggedIn: { path: '/whoami', pattern: '"user":"mallory"' },
};

const row = (rows: AuditResult[], id: string) => rows.find(r => r.id === id)!;

const test = suite('asvs :: audit');

test('a badly configured app: each weakness is a fail row saying what was seen', async () => {
  const app = badApp();
  const { url } = await app.listen(0, '127.0.0.1');
  try {
    const rows = await audit(url, BAD);
    const failed = rows.filter(r => r.outcome === 'fail').map(r => r.id);
    assert.equal(failed, ['3.3.1', '3.3.2', '3.3.3', '3.3.4', '3.5.1', '3.5.2', '3.5.3', '7.2.4', '14.3.1', '14.3.2'], formatTable(rows));
    assert.match(row(rows, '3.3.1').evidence, 'sid (set by POST /login (303)): no Secure, no __Host-/__Secure- prefix');
    assert.match(row(rows, '3.3.2').evidence, 'theme (set by POST /login (303)): no SameSite');
    assert.match(row(rows, '3.3.4').evidence, 'has no HttpOnly');
    assert.match(row(rows, '3.3.4').evidence, 'the session id is in the body of GET /whoami (200)');
    assert.match(row(rows, '3.5.1').evidence, 'POST /logout (303) without a token logged the user out');
    assert.match(row(rows, '3.5.3').evidence, 'GET /logout (303) logged the user out');
    assert.match(row(rows, '7.2.4').evidence, 're-authentication');
    assert.match(row(rows, '14.3.1').evidence, 'no Clear-Site-Data');
    assert.equal(rows.filter(r => r.outcome === 'n/a').map(r => [r.id, r.evidence]), [
      ['7.3.1', 'needs the configured inactivity timeout (idleTimeout, seconds)'],
      ['7.3.2', 'needs the configured absolute session lifetime (absoluteTimeout, seconds)'],
      ['7.4.2', 'needs a step that disables or deletes the test account (disableAccount)'],
      ['7.4.3', 'needs a credential change step that ends the other sessions (credentialChange)'],
      ['7.5.2', 'needs the page listing the user\'s sessions and the step that ends the others (sessions)'],
    ]);
  } finally {
    await app.close();
  }
});

test('a hand-tuned app over TLS: every row passes, timeouts and account steps included', async () => {
  const server = await startHardened();
  try {
    const rows = await audit(server.url, server.options);
    assert.equal(rows.filter(r => r.outcome !== 'pass').map(r => `${r.id}: ${r.evidence}`), []);
    assert.match(row(rows, '3.5.3').evidence, 'was refused (403)');
    assert.match(row(rows, '7.4.3').evidence, 'with a new token');
  } finally {
    await server.stop();
  }
});

test('a timeout longer than maxWait is n/a with the reason, not a wait of an hour', async () => {
  const server = await startHardened();
  try {
    const { credentialChange: _c, disableAccount: _d, sessions: _s, ...flows } = server.options;
    const rows = await audit(server.url, { ...flows, idleTimeout: 3600, absoluteTimeout: 86400 });
    assert.match(row(rows, '7.3.1').evidence, /idle timeout of 3600 s needs about \d+ s of waiting, more than maxWait \(30 s\)/);
    assert.is(row(rows, '7.3.2').outcome, 'n/a');
  } finally {
    await server.stop();
  }
});

test('a description the app does not fit is an error before any row, naming what happened', async () => {
  const app = badApp();
  const { url } = await app.listen(0, '127.0.0.1');
  try {
    await audit(url, { ...BAD, loggedIn: { path: '/whoami', pattern: 'never shown' } }).then(() => assert.unreachable('no error'), (error: Error) => {
      assert.is(error.name, 'FlowError');
      assert.match(error.message, 'audit: could not log in as the description says: after logging in (303) GET /whoami does not show the user logged in');
    });
  } finally {
    await app.close();
  }
});

test('the jar keeps cookies as a browser does: Secure, prefixes, Path, deletion', () => {
  const line = (text: string) => parseSetCookieLine(text)!;
  const insecure = new URL('http://example.test/a/b');
  const jar = new CookieJar();
  jar.receive(insecure, [line('s=1; Secure'), line('__Secure-a=1'), line('__Host-b=1; Secure; Path=/'), line('c=1; Domain=other.test'), line('d=1'), line('e=1; Path=/x')]);
  assert.equal(jar.names(), ['d', 'e']);
  assert.equal(jar.refused.length, 4);
  assert.is(jar.header(new URL('http://example.test/a/c')), 'd=1');
  assert.is(jar.header(new URL('http://example.test/x/y')), 'e=1');
  const secure = new CookieJar();
  const loopback = new URL('http://127.0.0.1:3000/');
  secure.receive(loopback, [line('__Host-s=1; Secure; Path=/'), line('__Host-t=1; Secure; Path=/; Domain=127.0.0.1'), line('__Host-u=1; Secure')]);
  assert.equal(secure.names(), ['__Host-s'], 'loopback is a secure origin; __Host- needs Path=/ and no Domain');
  secure.receive(loopback, [line('__Host-s=; Secure; Path=/; Max-Age=0')]);
  assert.equal(secure.names(), []);
});

test.run();
