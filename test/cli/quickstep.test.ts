/**
 * The `quickstep` command as a user types it: run from src/ (through tsx) in a temporary folder,
 * its exit codes and what it prints. test/package/package.test.ts runs the packed bin end to end.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

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

test.run();
