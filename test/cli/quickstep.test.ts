/**
 * The `quickstep` command as a user types it: run from src/ (through tsx) in a temporary folder,
 * its exit codes and what it prints. test/package/package.test.ts runs the packed bin end to end.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, redirect, session } from 'quickstep';
import { startHardened } from '../asvs/hardened-server.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'src', 'cli', 'quickstep.ts');
/** tsx by URL: the command runs in a temporary folder, where a bare `tsx` would not resolve. */
const TSX = import.meta.resolve('tsx');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function quickstep(cwd: string, ...args: string[]): Promise<Ran> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', TSX, BIN, ...args], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const test = suite<{ dir: string }>('cli :: quickstep', { dir: '' });

test.before(ctx => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'quickstep-cli-'));
});
test.after(ctx => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

test('`quickstep new` with no folder says it needs one, exits 2 and writes nothing', async ctx => {
  const ran = await quickstep(ctx.dir, 'new');
  assert.is(ran.code, 2);
  assert.match(ran.stderr, /quickstep new: name the folder to make the app in, e\.g\. quickstep new my-app/);
  assert.match(ran.stderr, /Usage: quickstep new <dir>/);
  assert.not.match(ran.stderr, /unknown command/);
  assert.is(ran.stdout, '');
});

test('`quickstep new a b` (an unquoted name with a space) says it takes one folder and exits 2', async ctx => {
  const ran = await quickstep(ctx.dir, 'new', 'Shop', 'App');
  assert.is(ran.code, 2);
  assert.match(ran.stderr, /quickstep new takes one folder, got 2: Shop App \(quote a name with spaces: quickstep new 'Shop App'\)/);
  assert.not.ok(existsSync(join(ctx.dir, 'Shop')), 'nothing was written');
});

for (const flag of ['--version', '-v']) {
  test(`\`quickstep ${flag}\` prints the package's version and exits 0`, async ctx => {
    const ran = await quickstep(ctx.dir, flag);
    assert.equal([ran.code, ran.stdout, ran.stderr], [0, `${VERSION}\n`, '']);
  });
}

test('--help names --version', async ctx => {
  const ran = await quickstep(ctx.dir, '--help');
  assert.is(ran.code, 0);
  assert.match(ran.stdout, /quickstep --version/);
});

test('the printed `cd` line quotes a folder with spaces, so it can be pasted into a shell', async ctx => {
  const ran = await quickstep(ctx.dir, 'new', 'Shop App');
  assert.is(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /^ {2}cd 'Shop App'$/m);
  assert.ok(existsSync(join(ctx.dir, 'Shop App', 'app.ts')));
});

test("... and a folder with a quote in its name: cd 'Ann'\\''s shop'", async ctx => {
  const ran = await quickstep(ctx.dir, 'new', "Ann's shop");
  assert.is(ran.code, 0, ran.stderr);
  const cd = /^ {2}cd (.*)$/m.exec(ran.stdout)?.[1];
  assert.is(cd, `'Ann'\\''s shop'`);
  // What a POSIX shell makes of the printed word is the folder's name.
  const echoed = await new Promise<string>(resolve => execFile('sh', ['-c', `printf %s ${cd}`], (_error, stdout) => resolve(stdout)));
  assert.is(echoed, "Ann's shop");
});

test('a plain name is printed as it is', async ctx => {
  const ran = await quickstep(ctx.dir, 'new', 'plain-app');
  assert.is(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /^ {2}cd plain-app$/m);
});

test('`quickstep audit <url> --config f.json` prints a row per requirement and exits 1 when one fails', async ctx => {
  // An app without Secure cookies, CSRF or a logout: several rows fail.
  // CSRF off, as an app from before it was the default: the login form carries no token.
  const app = createApp({ log: 'none', engines: { session: { Memory: { csrf: false } } } })
    .get('/me', async () => ((await session('user')) === 'ann' ? 'ann' : 'anonymous'))
    .post('/login', async () => { await session('user', 'ann'); return redirect('/me', 303); })
    .post('/logout', () => redirect('/me', 303));
  const { url } = await app.listen(0, '127.0.0.1');
  try {
    writeFileSync(join(ctx.dir, 'audit.json'), JSON.stringify({ login: { path: '/login' }, logout: { path: '/logout' }, loggedIn: { path: '/me', pattern: '^ann$' } }));
    const ran = await quickstep(ctx.dir, 'audit', url, '--config', 'audit.json');
    assert.is(ran.code, 1, ran.stderr);
    assert.match(ran.stdout, /^id +level +outcome +requirement \/ evidence$/m);
    assert.match(ran.stdout, /^3\.3\.1 +L1 +FAIL +Cookies have Secure and a __Host- or __Secure- name: sid \(set by POST \/login \(303\)\): no Secure/m);
    assert.match(ran.stdout, /^7\.4\.1 +L1 +FAIL +After logout the session cannot be used: POST \/logout \(303\) did not log the browser out$/m);
    assert.match(ran.stdout, /^7\.3\.1 +L2 +N\/A +/m);
    assert.match(ran.stdout, /\d+ pass, \d+ fail, 5 n\/a \(OWASP ASVS 5\.0\)/);
  } finally {
    await app.close();
  }
});

test('`quickstep audit` exits 0 when nothing fails (a TLS app, its certificate named by file)', async ctx => {
  const server = await startHardened();
  try {
    writeFileSync(join(ctx.dir, 'test-ca.pem'), server.ca);
    const { idleTimeout: _i, absoluteTimeout: _a, tls: _t, ...flows } = server.options;
    writeFileSync(join(ctx.dir, 'hardened.json'), JSON.stringify({ ...flows, tls: { ca: 'test-ca.pem' } }));
    const ran = await quickstep(ctx.dir, 'audit', server.url, '--config', 'hardened.json');
    assert.is(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /19 pass, 0 fail, 2 n\/a/);
  } finally {
    await server.stop();
  }
});

test('`quickstep audit` without a config, or with one the app does not fit, says why and exits 2', async ctx => {
  const missing = await quickstep(ctx.dir, 'audit', 'http://127.0.0.1:9');
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /quickstep audit: give the app's URL and its description/);
  writeFileSync(join(ctx.dir, 'bad.json'), '{"login": {}}');
  const bad = await quickstep(ctx.dir, 'audit', 'http://127.0.0.1:9', '--config', 'bad.json');
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /options\.login\.path is required/);
});

test.run();
