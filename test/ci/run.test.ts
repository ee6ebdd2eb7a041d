/**
 * `.ci/run`, what CI runs: on Node 22, 24 and 26 it runs `npm ci`, the type-check and `npm test`,
 * and its last line adds the three runs up. Here it runs as it is, from a copy of the repository's
 * file, with stand-ins on PATH: a `node` per line in the cache folder it looks in (so nothing is
 * fetched), an `npm` that answers as each line is told to, and redis-server, redis-cli and
 * chromium that do nothing (so nothing is installed and no real redis-server is shut down). What
 * is checked is what CI relies on: every line runs, and a failed build never ends in "0 failed".
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const SCRIPT = join(import.meta.dirname, '..', '..', '.ci', 'run');
const LINES = [22, 24, 26];

/** What a stand-in npm does on one line: `npm test`'s output and exit code, and whether ci or the type-check fail. */
interface Line {
  test?: [output: string, code: number];
  ciFails?: boolean;
  typecheckFails?: boolean;
}

interface Ran {
  code: number | null;
  lines: string[];
}

const executable = (path: string, text: string) => {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
};

/** `.ci/run` with each Node line's npm behaving as `lines` says (default: 100 passed, 0 failed). */
async function ciRun(lines: Partial<Record<number, Line>> = {}): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-ci-'));
  try {
    mkdirSync(join(dir, 'repo', '.ci'), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'repo', '.ci', 'run'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['redis-server', 'redis-cli', 'chromium']) executable(join(bin, tool), '#!/bin/sh\nexit 0\n');
    const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
    for (const major of LINES) {
      const nodeBin = join(dir, 'cache', 'quickstep', `node${major}`, 'node_modules', `node-linux-${arch}`, 'bin');
      mkdirSync(nodeBin, { recursive: true });
      executable(join(nodeBin, 'node'), `#!/bin/sh\n[ "$1" = --version ] && echo v${major}.9.0\n`);
    }
    // The npm of each run is the one on PATH; which line it serves is what `node --version` says.
    const cases = LINES.map(major => {
      const line = lines[major] ?? {};
      const [output, code] = line.test ?? ['100 passed, 0 failed, 2 skipped', 0];
      return `  v${major}.*) ci=${line.ciFails ? 1 : 0} tc=${line.typecheckFails ? 1 : 0} out=${JSON.stringify(output)} code=${code} ;;`;
    });
    executable(join(bin, 'npm'), [
      '#!/usr/bin/env bash',
      'case "$(node --version)" in',
      ...cases,
      'esac',
      'case "$1" in',
      '  ci) exit $ci ;;',
      '  run) exit $tc ;;',
      '  test) printf "%s\\n" "$out"; exit $code ;;',
      'esac',
      'exit 9',
    ].join('\n') + '\n');
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') };
    return await new Promise(resolve => {
      execFile('bash', [join(dir, 'repo', '.ci', 'run')], { env, timeout: 30_000 }, (error, stdout) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, lines: stdout.trimEnd().split('\n') });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const test = suite('.ci/run :: the three Node lines, added up');

test('every line passes :: a run on each of Node 22, 24 and 26, the totals added, exit 0', async () => {
  const ran = await ciRun();
  assert.equal(ran.lines.slice(-5), [
    'Node v22.9.0: 100 passed, 0 failed, 2 skipped',
    'Node v24.9.0: 100 passed, 0 failed, 2 skipped',
    'Node v26.9.0: 100 passed, 0 failed, 2 skipped',
    'skipped in all: 6',
    '300 passed, 0 failed',
  ]);
  assert.is(ran.code, 0);
});

test('a test fails on one line :: its failures are in the last line, exit 1', async () => {
  const ran = await ciRun({ 24: { test: ['99 passed, 1 failed', 1] } });
  assert.is(ran.lines.at(-1), '299 passed, 1 failed');
  assert.is(ran.code, 1);
});

test('a failed run whose totals say "0 failed" :: counted as one failure, never "0 failed" at the end', async () => {
  // No test passed on a line (npm test's runner exits 1 then, with "0 failed").
  const none = await ciRun({ 26: { test: ['0 passed, 0 failed', 1] } });
  assert.ok(none.lines.includes('Node v26.9.0: 0 passed, 0 failed; no test passed'), none.lines.join('\n'));
  assert.is(none.lines.at(-1), '200 passed, 1 failed');
  assert.is(none.code, 1);
  // npm test exited non-zero after totals of "0 failed" (a shard in which every test was skipped).
  const exited = await ciRun({ 22: { test: ['100 passed, 0 failed, 40 skipped', 1] } });
  assert.ok(exited.lines.includes('Node v22.9.0: 100 passed, 0 failed, 40 skipped; npm test exited 1'), exited.lines.join('\n'));
  assert.is(exited.lines.at(-1), '300 passed, 1 failed');
  assert.is(exited.code, 1);
});

test('a step fails before a test counts it :: npm ci, the type-check or a run without totals each add one failure', async () => {
  const ci = await ciRun({ 22: { ciFails: true } });
  assert.ok(ci.lines.includes('Node v22.9.0: npm ci failed'), ci.lines.join('\n'));
  assert.equal([ci.lines.at(-1), ci.code], ['200 passed, 1 failed', 1]);
  const typecheck = await ciRun({ 24: { typecheckFails: true } });
  assert.ok(typecheck.lines.includes('Node v24.9.0: 100 passed, 0 failed, 2 skipped; the type-check failed'), typecheck.lines.join('\n'));
  assert.equal([typecheck.lines.at(-1), typecheck.code], ['300 passed, 1 failed', 1]);
  const crashed = await ciRun({ 26: { test: ['Segmentation fault', 139] } });
  assert.ok(crashed.lines.includes('Node v26.9.0: no totals'), crashed.lines.join('\n'));
  assert.equal([crashed.lines.at(-1), crashed.code], ['200 passed, 1 failed', 1]);
});

test.run();
