/**
 * The README's "Ten lines" example, run exactly as printed (a user copies it first): it echoes
 * the user name escaped, and answers bad input with a 400, not a 500.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TestClient } from '../src/testing/client.ts';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const example = /## Ten lines\n\n```ts\n([\s\S]*?)```/.exec(readme)![1]!;

const tenLines = suite('README :: Ten lines');

tenLines('runs as printed: a login echoed escaped, a logout, bad input a 400', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-readme-'));
  writeFileSync(join(dir, 'config.yml'), 'port: 0\nhost: 127.0.0.1\nlog: none\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', example], {
    cwd: root, env: { ...process.env, DANCER_CONFDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${err}`)), 15_000);
      child.stdout.on('data', () => {
        const found = /http:\/\/\S+/.exec(out);
        if (found) (clearTimeout(timer), resolve(found[0]));
      });
      child.once('exit', () => reject(new Error(`exited:\n${err}`)));
    });
    // A browser-like client (cookie jar) on the example's own server; the child owns the server.
    const client = new TestClient(url, async () => {});
    assert.is((await client.get('/')).text, 'Hello, stranger');
    const login = await client.post('/login', { form: { user: '<script>alert(1)</script>' } });
    assert.equal([login.status, login.headers.get('location')], [303, '/']);
    assert.is((await client.get('/')).text, 'Hello, &lt;script&gt;alert(1)&lt;/script&gt;');
    for (const bad of [{}, { form: { user: '' } }, { body: '{"user":', headers: { 'content-type': 'application/json' } }]) {
      const res = await client.post('/login', bad);
      assert.is(res.status, 400, JSON.stringify(bad));
    }
    assert.is((await client.post('/logout')).status, 303);
    assert.is((await client.get('/')).text, 'Hello, stranger');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

tenLines.run();
