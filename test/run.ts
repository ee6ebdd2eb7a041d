/**
 * `npm test`: runs every test/**\/*.test.ts with uvu in one process, passes its output through,
 * and ends with the line `N passed, N failed[, N skipped]` from uvu's own totals. Exits non-zero
 * when a test failed, when uvu stopped early, or when no test ran at all.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

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
const runner = `
  import { run } from 'uvu/run';
  await run(${JSON.stringify(files.map(file => ({ name: relative(root, file), file })))}, { bail: false });
`;
// Inside the repository `quickstep` resolves to src/ through the package's `quickstep-source`
// export condition (dist/ is only built for packing). In NODE_OPTIONS, so that processes the tests
// start (the example app) resolve it the same way; the packaging test removes it for its consumer.
const nodeOptions = [process.env.NODE_OPTIONS, '--conditions=quickstep-source'].filter(Boolean).join(' ');
const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', runner], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NODE_OPTIONS: nodeOptions, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
});

let output = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

child.on('close', code => {
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const total = lastNumber(plain, /Total:\s+(\d+)/g);
  const passed = lastNumber(plain, /Passed:\s+(\d+)/g);
  const skipped = lastNumber(plain, /Skipped:\s+(\d+)/g);
  // uvu's Total counts the tests that ran; skipped ones are counted apart.
  let failed = Math.max(0, total - passed);
  // uvu exits non-zero without counting a test as failed when a suite hook throws.
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code !== 0 || failed > 0 || passed === 0 ? 1 : 0);
});

function lastNumber(text: string, pattern: RegExp): number {
  const all = [...text.matchAll(pattern)];
  return all.length ? Number(all[all.length - 1]![1]) : 0;
}
