import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..');

// A user's whole app, importing the package by name as users do.
const SCRIPT = `
import { any, get, post, body, csrfToken, dance } from 'quickstep';
get('/', () => 'hello from dance');
post('/echo', () => body());
get('/token', () => csrfToken());
post('/form', () => 'posted');
post('/api', { csrf: false }, () => 'api');
any(['put'], '/any', { csrf: true }, () => 'any');
get('/slow', async () => {
  console.log('slow started');
  await new Promise(resolve => setTimeout(resolve, 1000));
  return 'slow done';
});
await dance();
`;

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** Runs SCRIPT with config.yml in a temp dir as DANCER_CONFDIR; resolves with the URL it prints. */
interface Dancer {
  child: Child;
  /** The exit code, once the process ended and its output was read. */
  exit: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Runs SCRIPT with `config` as config.yml in `dir` (DANCER_CONFDIR; no config.yml when undefined),
 * in the default environment unless `extraEnv` says otherwise.
 */
function run(dir: string, config: string | undefined, extraEnv: NodeJS.ProcessEnv = {}): Dancer {
  if (config !== undefined) writeFileSync(join(dir, 'config.yml'), config);
  const env: NodeJS.ProcessEnv = { ...process.env, DANCER_CONFDIR: dir };
  delete env.DANCER_ENVIRONMENT;
  delete env.PORT;
  delete env.HOST;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const exit = new Promise<number | null>(resolve => child.once('close', code => resolve(code)));
  return { child, exit, stdout: () => out, stderr: () => err };
}

/** The URL the app prints when it starts listening. */
async function printedUrl(app: Dancer): Promise<string> {
  for (;;) {
    const found = /http:\/\/\S+/.exec(app.stdout());
    if (found) return found[0];
    if (app.child.exitCode !== null) throw new Error(`dance() exited before printing its URL:\n${app.stderr()}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/** Resolves once a new TCP connection to `url` is refused (the server stopped accepting). */
async function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>(resolve => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (ok) return true;
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  return false;
}

const dance = suite('dance()');

dance('reads config.yml, prints the URL once, answers; SIGTERM finishes the request in flight, exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const app = run(dir, 'port: 0\nhost: 127.0.0.1\nlog: none\nmax_body_size: 16\nengines:\n  session:\n    Memory: { csrf: false }\n');
  const guard = setTimeout(() => app.child.kill('SIGKILL'), 10_000);
  try {
    const url = await printedUrl(app);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.is(await (await fetch(url + '/')).text(), 'hello from dance');
    const big = await fetch(url + '/echo', { method: 'POST', body: 'x'.repeat(17), headers: { 'content-type': 'text/plain' } });
    assert.is(big.status, 413, 'max_body_size came from config.yml');

    const slow = fetch(url + '/slow').then(async res => ({ status: res.status, text: await res.text() }));
    while (!app.stdout().includes('slow started')) await new Promise(resolve => setTimeout(resolve, 5));
    const signalled = Date.now();
    app.child.kill('SIGTERM');
    assert.ok(await refused(url), 'stops accepting new connections');
    assert.equal(await slow, { status: 200, text: 'slow done' });
    assert.is(await app.exit, 0);
    // The in-flight request's keep-alive connection must not hold the exit for keepAliveTimeout.
    assert.ok(Date.now() - signalled < 3000, `exited ${Date.now() - signalled} ms after SIGTERM`);
    assert.is(app.stdout().split(url).length - 1, 1, 'the URL is printed once');
  } finally {
    clearTimeout(guard);
    app.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('a bad config.yml :: exits non-zero naming the file and key, before listening', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  try {
    const app = run(dir, 'port: lots\n');
    assert.is.not(await app.exit, 0);
    assert.match(app.stderr(), /ConfigError: config\.yml: port: expected an integer from 0 to 65535, got "lots"/);
    assert.is(app.stderr().trim().split('\n').length, 1, `one line, no stack trace:\n${app.stderr()}`);
    assert.not.match(app.stdout(), /http:\/\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('csrf :: csrf: true in config.yml guards the keywords\' routes; csrfToken(); { csrf } options on post() and any()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const app = run(dir, 'port: 0\nhost: 127.0.0.1\nlog: none\nengines:\n  session:\n    Memory: { csrf: true }\n');
  try {
    const url = await printedUrl(app);
    const form = { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    assert.is((await fetch(url + '/form', form)).status, 403);
    assert.is((await fetch(url + '/any', { method: 'PUT' })).status, 403);
    assert.is(await (await fetch(url + '/api', form)).text(), 'api', '{ csrf: false } opts out');
    const page = await fetch(url + '/token');
    const headers = { cookie: page.headers.getSetCookie()[0]!.split(';')[0]!, 'x-csrf-token': await page.text() };
    assert.is(await (await fetch(url + '/form', { ...form, headers: { ...form.headers, ...headers } })).text(), 'posted');
    assert.is(await (await fetch(url + '/any', { method: 'PUT', headers })).text(), 'any');
  } finally {
    app.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('the start line :: names the environment and the session engine', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const app = run(dir, 'port: 0\nhost: 127.0.0.1\n');
  try {
    await printedUrl(app);
    assert.match(app.stdout(), /^Quickstep \(development, Memory\) is dancing on http:\/\/127\.0\.0\.1:\d+\n/);
  } finally {
    app.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('a busy port :: one line naming the port and how to change it, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  try {
    const app = run(dir, `port: ${port}\nhost: 127.0.0.1\n`);
    assert.is(await app.exit, 1);
    assert.equal(app.stderr().trim().split('\n'), [
      `Quickstep cannot listen: port ${port} is already in use by another program; stop it, or set port in config.yml or the PORT environment variable (port: 0 picks a free one)`,
    ]);
  } finally {
    taken.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('no config.yml :: said in one log line; PORT and HOST from the environment still apply', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const free = createServer().listen(0, '127.0.0.1');
  await once(free, 'listening');
  const port = (free.address() as AddressInfo).port;
  await new Promise(resolve => free.close(resolve));
  const app = run(dir, undefined, { PORT: String(port), HOST: '127.0.0.1' });
  try {
    assert.is(await printedUrl(app), `http://127.0.0.1:${port}`);
    assert.match(app.stderr(), new RegExp(`info: no config\\.yml in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: running on the defaults`));
  } finally {
    app.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('DANCER_ENVIRONMENT without its file :: said in one log line, config.yml alone is used', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  const app = run(dir, 'port: 0\nhost: 127.0.0.1\n', { DANCER_ENVIRONMENT: 'staging' });
  try {
    await printedUrl(app);
    assert.match(app.stderr(), /info: no environments\/staging\.yml in .*for the environment "staging": using config\.yml alone/);
    assert.match(app.stdout(), /^Quickstep \(staging, Memory\)/);
  } finally {
    app.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

dance('PORT that is not a port :: a ConfigError naming the variable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-dance-'));
  try {
    const app = run(dir, undefined, { PORT: 'eighty' });
    assert.is(await app.exit, 1);
    assert.match(app.stderr(), /^ConfigError: PORT \(environment variable\): port: expected an integer from 0 to 65535, got "eighty"\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

dance.run();
