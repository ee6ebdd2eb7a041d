/**
 * asvsSuite with a runner's `test` function (node:test's shape, recorded here): one test per
 * requirement, n/a rows skipped at registration with their reason, a failing row a failing test
 * carrying the evidence, and the audit run once however many tests read it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, redirect, session } from 'quickstep';
import { asvsSuite } from 'quickstep/asvs';

const test = suite('asvs :: asvsSuite');

test('registers one test per requirement; n/a skipped with the reason; a fail throws its evidence', async () => {
  // CSRF off, as an app from before it was the default: the login form carries no token.
  const app = createApp({ log: 'none', engines: { session: { Memory: { csrf: false } } } })
    .get('/me', async () => ((await session('user')) === 'ann' ? 'ann' : 'anonymous'))
    .post('/login', async () => { await session('user', 'ann'); return redirect('/me', 303); })
    .post('/logout', async () => { (await session()).clear(); return redirect('/me', 303); });
  const registered: { name: string; skip: string | false; fn: () => Promise<void> }[] = [];
  let started = 0;
  asvsSuite((name, options, fn) => registered.push({ name, skip: options.skip, fn }), {
    target: async () => {
      started++;
      return (await app.listen(0, '127.0.0.1')).url;
    },
    login: { path: '/login' },
    logout: { path: '/logout' },
    loggedIn: { path: '/me', pattern: '^ann$' },
  });
  try {
    assert.is(registered.length, 21);
    assert.is(registered[0]!.name, 'ASVS 3.3.1 (L1) Cookies have Secure and a __Host- or __Secure- name');
    assert.equal(registered.filter(t => t.skip !== false).map(t => t.name.split(' ')[1]), ['7.3.1', '7.3.2', '7.4.2', '7.4.3', '7.5.2']);
    assert.is(registered.find(t => t.name.startsWith('ASVS 7.4.2'))!.skip, 'needs a step that disables or deletes the test account (disableAccount)');
    const outcomes: string[] = [];
    for (const t of registered.filter(t => t.skip === false)) {
      outcomes.push(await t.fn().then(() => 'pass', (error: Error) => error.message));
    }
    assert.is(started, 1, 'the audit ran once');
    assert.ok(outcomes.some(o => o.startsWith('ASVS 3.3.1 fails: sid (set by POST /login (303)): no Secure')), outcomes.join('\n'));
    assert.ok(outcomes.includes('pass'));
  } finally {
    await app.close();
  }
});

test.run();
