/**
 * `npm test`: runs every test/**\/*.test.ts with uvu and ends with the line
 * `N passed, N failed[, N skipped]` from uvu's own totals, added up. Exits non-zero when a test
 * failed, when uvu stopped early, or when no test ran at all.
 *
 * The files run in three uvu processes at once (QUICKSTEP_TEST_SHARDS=1 for one): the suite
 * mostly waits (timeouts, sleeps, servers starting, failovers), so on two cores the shards
 * together take about the time of the longest: the Redis engine's fault tests
 * (test/session/engines/redis/), the rest of test/session/, and everything else. Each shard's
 * output is printed whole when it ends, so they never interleave.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = testFiles(join(root, 'test'))
  // Matched within the repository, so a checkout under e.g. /work/wt-package/ selects nothing extra.
  .filter(file => only.length === 0 || only.some(part => relative(root, file).includes(part)))
  .sort();
const redisDir = join(root, 'test', 'session', 'engines', 'redis') + sep;
const sessionDir = join(root, 'test', 'session') + sep;
const shardOf = (file: string) => (file.startsWith(redisDir) ? 0 : file.startsWith(sessionDir) ? 1 : 2);
const shards = process.env.QUICKSTEP_TEST_SHARDS === '1'
  ? [files]
  : [0, 1, 2].map(shard => files.filter(file => shardOf(file) === shard)).filter(shard => shard.length > 0);

// Inside the repository `quickstep` resolves to src/ through the package's `quickstep-source`
// export condition (dist/ is only built for packing). In NODE_OPTIONS, so that processes the tests
// start (the example app) resolve it the same way; the packaging test removes it for its consumer.
const nodeOptions = [process.env.NODE_OPTIONS, '--conditions=quickstep-source'].filter(Boolean).join(' ');

interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
}

/** One uvu process over `shard`; its output is printed when it ends. */
function runShard(shard: string[]): Promise<Totals> {
  const runner = `
    import { run } from 'uvu/run';
    await run(${JSON.stringify(shard.map(file => ({ name: relative(root, file), file })))}, { bail: false });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
  });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  return new Promise(resolve => {
    child.on('close', code => {
      process.stdout.write(output);
      process.stderr.write(errors);
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      const total = lastNumber(plain, /Total:\s+(\d+)/g);
      const passed = lastNumber(plain, /Passed:\s+(\d+)/g);
      const skipped = lastNumber(plain, /Skipped:\s+(\d+)/g);
      // uvu's Total counts the tests that ran; skipped ones are counted apart.
      let failed = Math.max(0, total - passed);
      // uvu exits non-zero without counting a test as failed when a suite hook throws.
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ passed, failed, skipped, ok: code === 0 && failed === 0 && passed > 0 });
    });
  });
}

function lastNumber(text: string, pattern: RegExp): number {
  const all = [...text.matchAll(pattern)];
  return all.length ? Number(all[all.length - 1]![1]) : 0;
}

const results = await Promise.all(shards.map(runShard));
const sum = (key: 'passed' | 'failed' | 'skipped') => results.reduce((total, result) => total + result[key], 0);
const passed = sum('passed');
const failed = sum('failed');
const skipped = sum('skipped');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(results.length === 0 || results.some(result => !result.ok) ? 1 : 0);
