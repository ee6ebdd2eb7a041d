/**
 * `workers: 2`: dance() as real processes — a primary and two workers sharing one loopback port,
 * sessions on a real Redis. Every wait is bounded and polls what a user would see (responses,
 * the log, the process table); nothing asserts on a fixed sleep.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alive, childrenOf, runningFrom } from '../support/processes.ts';
import { redisSuite, startRedis, waitUntil, type RedisServer } from '../support/redis-server.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';

const root = join(import.meta.dirname, '../..');

const QUICKSTEP = JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href);

// A user's app: node:cluster starts every worker from this file, as it would from theirs.
const APP = `
import { get, post, session, dance } from ${QUICKSTEP};
get('/pid', () => String(process.pid));
post('/remember', async () => {
  await session('note', 'written by ' + process.pid);
  return String(process.pid);
});
get('/recall', async () => JSON.stringify({ pid: process.pid, note: (await session('note')) ?? null }));
get('/slow', async ctx => {
  console.log('slow started in ' + process.pid);
  await new Promise(resolve => setTimeout(resolve, Number(ctx.query.ms ?? 500)));
  return 'slow done';
});
await dance();
`;

interface Dancer {
  child: ChildProcessByStdio<null, Readable, Readable>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
  dir: string;
}

/** Starts the app with `config`; `detached`: in a process group of its own (a terminal's Ctrl-C reaches it all). */
function run(config: string, options: { detached?: boolean; app?: string } = {}): Dancer {
  const dir = siteDir({ 'package.json': '{ "type": "module" }', 'app.ts': options.app ?? APP, 'config.yml': config });
  const env: NodeJS.ProcessEnv = { ...process.env, DANCER_CONFDIR: dir };
  for (const name of ['DANCER_ENVIRONMENT', 'PORT', 'HOST']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'app.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const app = { child, exit, stdout: () => out, stderr: () => err, dir };
  // No test waits for ever on a process that should have ended (its exit then shows SIGKILL).
  const guard = setTimeout(() => killAll(app), 20_000).unref();
  child.once('close', () => clearTimeout(guard));
  return app;
}

async function printedUrl(app: Dancer): Promise<string> {
  let url = '';
  await waitUntil('the start line', async () => {
    if (app.child.exitCode !== null) throw new Error(`dance() exited before its start line:\n${app.stderr()}`);
    url = /is dancing on (http:\/\/\S+)\n/.exec(app.stdout())?.[1] ?? '';
    return url !== '';
  }, undefined, 15_000);
  return url;
}

interface Answer {
  status: number;
  text: string;
  cookie: string | undefined;
}

/** One request on a connection of its own (no keep-alive), so the primary hands it to the next worker. */
function ask(url: string, path: string, options: { method?: string; cookie?: string } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = options.cookie ? { cookie: options.cookie } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: options.method ?? 'GET', headers, agent: false }, res => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asks `path` until `done` says so (every answer must be a 200), within `timeoutMs`. */
async function askUntil(url: string, path: string, done: (answer: Answer) => boolean, timeoutMs = 10_000, cookie?: string): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await ask(url, path, cookie === undefined ? {} : { cookie });
    assert.is(answer.status, 200, `GET ${path}: ${answer.text}`);
    if (done(answer)) return answer;
  }
  throw new Error(`GET ${path}: not done within ${timeoutMs} ms`);
}

const killAll = (app: Dancer) => {
  for (const pid of childrenOf(app.child.pid!)) process.kill(pid, 'SIGKILL');
  app.child.kill('SIGKILL');
};

/**
 * Sends 4 requests to /slow and resolves once each is in a route, in both workers, with the
 * promise of their answers (wrapped: an async function would wait for a Promise it returns).
 */
async function slowRequestsInFlight(app: Dancer, url: string, path = '/slow'): Promise<{ answers: Promise<Answer[]> }> {
  const started = () => app.stdout().match(/slow started in \d+/g) ?? [];
  // Settled at once, so that a failure is the test's assertion rather than an unhandled rejection.
  const slow = Array.from({ length: 4 }, () => ask(url, path).catch((error: Error) => ({ status: 0, text: error.message, cookie: undefined })));
  await waitUntil('4 slow requests started', async () => started().length === 4);
  assert.is(new Set(started()).size, 2, 'both workers hold requests in flight');
  return { answers: Promise.all(slow) };
}

const lines = (app: Dancer) => app.stderr().trim().split('\n');

const shared = redisSuite<{ redis?: RedisServer; app?: Dancer; url: string; pids: number[] }>('dance() :: workers: 2 on Redis', { url: '', pids: [] });

shared.before(async context => {
  context.redis = await startRedis();
  context.app = run(`port: 0\nhost: 127.0.0.1\nlog: info\naccess_log: false\nworkers: 2\nsession: Redis\nengines:\n  session:\n    Redis: { url: "${context.redis.url}", csrf: false }\n`);
  context.url = await printedUrl(context.app);
});

shared.after(async context => {
  if (context.app) {
    killAll(context.app);
    removeDir(context.app.dir);
  }
  await context.redis?.stop();
});

shared('the start line says 2 workers; fresh connections are answered by two different pids', async context => {
  assert.match(context.app!.stdout(), /^Quickstep \(development, Redis, 2 workers\) is dancing on http:\/\/127\.0\.0\.1:\d+\n/);
  const seen = new Set<string>();
  await askUntil(context.url, '/pid', answer => seen.add(answer.text).size === 2);
  context.pids = [...seen].map(Number);
  assert.not.ok(context.pids.includes(context.app!.child.pid!), 'the primary serves nothing');
  const children = childrenOf(context.app!.child.pid!);
  assert.ok(context.pids.every(pid => children.includes(pid)), 'the two workers are the primary\'s children');
});

shared('a session created through one worker is read through the other', async context => {
  const made = await ask(context.url, '/remember', { method: 'POST' });
  assert.is(made.status, 200);
  assert.ok(made.cookie, 'a session cookie');
  const other = await askUntil(context.url, '/recall', answer => JSON.parse(answer.text).pid !== Number(made.text), 10_000, made.cookie);
  assert.is(JSON.parse(other.text).note, `written by ${made.text}`);
});

shared('a worker killed with SIGKILL is replaced, logged, and requests keep succeeding', async context => {
  const app = context.app!;
  const [victim, survivor] = context.pids as [number, number];
  process.kill(victim, 'SIGKILL');
  await waitUntil('the restart logged', async () => app.stderr().includes(`worker ${victim} was killed by SIGKILL; starting a new one in 100 ms`));
  const fresh = await askUntil(context.url, '/pid', answer => Number(answer.text) !== survivor);
  const replacement = Number(fresh.text);
  assert.is.not(replacement, victim);
  // The primary logs the replacement; its line can reach our pipe after the new worker's first answer.
  await waitUntil('the replacement logged', async () => app.stderr().includes(`worker ${replacement} started, replacing worker ${victim}`));
  assert.not.ok(alive(victim));
  for (let i = 0; i < 4; i++) assert.is((await ask(context.url, '/pid')).status, 200);
  context.pids = [survivor, replacement];
});

shared('SIGTERM: every slow request in flight answers 200, then the primary and all workers are gone, exit 0', async context => {
  const app = context.app!;
  const everyone = [app.child.pid!, ...context.pids];
  assert.ok(context.pids.every(pid => alive(pid)));
  const slow = await slowRequestsInFlight(app, context.url);
  app.child.kill('SIGTERM');
  for (const answer of await slow.answers) assert.equal([answer.status, answer.text], [200, 'slow done']);
  assert.equal(await app.exit, { code: 0, signal: null });
  await waitUntil('every process gone', async () => everyone.every(pid => !alive(pid)));
  assert.equal(runningFrom(app.dir), []);
  const after = await ask(context.url, '/pid').then(answer => String(answer.status), (error: NodeJS.ErrnoException) => error.code);
  assert.is(after, 'ECONNREFUSED', 'nothing listens any more');
});

shared.run();

const terminal = redisSuite('dance() :: workers: 2, Ctrl-C in a terminal');

/** Resolves once a new TCP connection to `url` is refused (every worker stopped accepting). */
async function refused(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await waitUntil('connections refused', () => new Promise<boolean>(resolve => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  }));
}

// A terminal's Ctrl-C signals every process of the group, and the primary then sends each worker
// SIGTERM as well: a worker signalled again while it stops must go on stopping gracefully.
terminal('SIGINT to the process group, then SIGTERM to each worker while stopping: every request in flight answers 200, exit 0', async () => {
  const redis = await startRedis();
  const app = run(`port: 0\nhost: 127.0.0.1\nlog: warning\nworkers: 2\nsession: Redis\nengines:\n  session:\n    Redis: { url: "${redis.url}", csrf: false }\n`, { detached: true });
  try {
    const url = await printedUrl(app);
    const slow = await slowRequestsInFlight(app, url, '/slow?ms=700');
    const workers = new Set(app.stdout().match(/(?<=slow started in )\d+/g)!.map(Number));
    process.kill(-app.child.pid!, 'SIGINT');
    await refused(url);
    for (const pid of workers) {
      assert.ok(alive(pid), `worker ${pid} still stopping (the primary's SIGTERM after the group's SIGINT did not kill it)`);
      process.kill(pid, 'SIGTERM');
    }
    for (const answer of await slow.answers) assert.equal([answer.status, answer.text], [200, 'slow done']);
    assert.equal(await app.exit, { code: 0, signal: null });
    assert.equal(runningFrom(app.dir), []);
  } finally {
    killAll(app);
    removeDir(app.dir);
    await redis.stop();
  }
});

terminal.run();

const sealed = suite('dance() :: workers: 2 on Cookie');

sealed('a session sealed by one worker opens in the other (no server state to share)', async () => {
  const secret = 'k'.repeat(40);
  const app = run(`port: 0\nhost: 127.0.0.1\nlog: info\naccess_log: false\nworkers: 2\nsession: Cookie\nengines:\n  session:\n    Cookie: { secret_key: "${secret}", csrf: false, revocation: false }\n`);
  try {
    const url = await printedUrl(app);
    assert.match(app.stdout(), /^Quickstep \(development, Cookie, 2 workers\) is dancing on /);
    const made = await ask(url, '/remember', { method: 'POST' });
    assert.is(made.status, 200);
    assert.ok(made.cookie?.startsWith('sid=v1.'), `a sealed cookie (${made.cookie?.slice(0, 24)})`);
    const other = await askUntil(url, '/recall', answer => JSON.parse(answer.text).pid !== Number(made.text), 10_000, made.cookie);
    assert.is(JSON.parse(other.text).note, `written by ${made.text}`);
  } finally {
    killAll(app);
    removeDir(app.dir);
  }
});

sealed.run();

const failing = suite('dance() :: workers that cannot run');

// workers: 0, "many", 1.5, and the file that set the key: test/config/config.test.ts.
failing('workers: 2 with Memory :: one ConfigError line saying why and what to use, exit 1, nothing forked', async () => {
  const app = run('port: 0\nhost: 127.0.0.1\nworkers: 2\n');
  try {
    assert.equal(await app.exit, { code: 1, signal: null });
    assert.equal(lines(app), [
      'ConfigError: config.yml: workers: expected 1 with the Memory session engine, which keeps sessions inside one process (each worker would have its own, and a session made through one would be unknown to the others); to run several workers choose a session engine they share: session: Redis, or session: Cookie (the session sealed in the cookie), got 2',
    ]);
    assert.is(app.stdout(), '');
  } finally {
    killAll(app);
    removeDir(app.dir);
  }
});

failing('a busy port :: the one line once (not once per worker), exit 1, no worker left behind', async () => {
  const taken = createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as AddressInfo).port;
  const app = run(`port: ${port}\nhost: 127.0.0.1\nworkers: 2\nsession: Redis\n`);
  try {
    assert.equal(await app.exit, { code: 1, signal: null });
    assert.equal(lines(app), [
      `Quickstep cannot listen: port ${port} is already in use by another program; stop it, or set port in config.yml or the PORT environment variable (port: 0 picks a free one)`,
    ]);
    assert.equal(runningFrom(app.dir), [], 'no worker outlives the primary');
  } finally {
    taken.close();
    killAll(app);
    removeDir(app.dir);
  }
});

failing('workers that die before listening :: restarted with a growing delay, then the primary gives up, exit 1', async () => {
  // Each worker throws before it loads anything, so the five deaths cost little time.
  const app = run('port: 0\nhost: 127.0.0.1\nlog: warning\nworkers: 2\nsession: Redis\n', {
    app: `import cluster from 'node:cluster';\nif (cluster.isWorker) throw new Error('boom in a worker');\nconst { dance } = await import(${QUICKSTEP});\nawait dance();\n`,
  });
  try {
    assert.equal(await app.exit, { code: 1, signal: null });
    const delays = [...app.stderr().matchAll(/warning: worker \d+ exited with code 1; starting a new one in (\d+) ms/g)].map(match => Number(match[1]));
    assert.equal(delays, [100, 200, 400, 800]);
    assert.match(app.stderr(), /error: worker \d+ exited with code 1 before listening, the 5th in a row: the app cannot start; stopping/);
    assert.match(app.stderr(), 'boom in a worker', 'each worker\'s own error is shown');
    assert.not.match(app.stdout(), 'dancing');
    assert.equal(runningFrom(app.dir), []);
  } finally {
    killAll(app);
    removeDir(app.dir);
  }
});

failing.run();
