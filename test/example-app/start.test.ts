/**
 * What `npm start` runs (`tsx example-app/app.ts` in the repository root) really serves: it reads
 * config.yml (PORT from the environment), prints its URL, answers, and exits 0 on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../support/redis-server.ts';
import { ROOT } from './harness.ts';

const test = suite('example app :: npm start');

/** Resolves with the URL the app prints, or rejects if it exits or stays silent. */
function printedUrl(child: ChildProcess, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed within ${timeoutMs} ms; output: ${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // Up to the end of the line, so a URL split across two chunks is not read half-way.
      const url = /(https?:\/\/\S+)\r?\n/.exec(output)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      resolve(url);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', code => {
      clearTimeout(timer);
      reject(new Error(`the app exited with code ${code} before printing its URL; output: ${output}`));
    });
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));

test('serves on $PORT with the Memory engine, and SIGTERM exits 0', async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  // What a user's shell would not have set: the defaults of config.yml must apply.
  delete env.SESSION_ENGINE;
  delete env.DANCER_CONFDIR;
  delete env.DANCER_ENVIRONMENT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'example-app/app.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await printedUrl(child);
    assert.is(url, `http://127.0.0.1:${port}`);
    const health = await fetch(`${url}/health`);
    assert.is(health.status, 200);
    assert.is(await health.text(), 'ok');
    // A session works too: the Memory engine from config.yml is in place.
    const counter = await fetch(`${url}/counter`);
    assert.equal(await counter.json(), { count: 1 });
    assert.match(counter.headers.get('set-cookie') ?? '', /^sid=/);
    const exit = exited(child);
    child.kill('SIGTERM');
    assert.equal(await exit, { code: 0, signal: null });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test.run();
