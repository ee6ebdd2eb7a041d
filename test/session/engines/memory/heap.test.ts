/**
 * Issue 8, item 4: a flood of new sessions near the size limit must not grow the heap without
 * bound. Measured in a child process (GC forced, figures not the test runner's): with a byte
 * budget the retained heap stays near max_bytes; without one (the control, showing the
 * measurement sees growth) it grows with every session.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const SCRIPT = fileURLToPath(new URL('../../../support/memory-heap.ts', import.meta.url));
const MiB = 2 ** 20;

interface Figures {
  sessions: number;
  retainedHeapMiB: number;
  peakRssMiB: number;
  cpuMs: number;
}

async function flood(count: number, kib: number, maxBytes: number): Promise<Figures> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, String(count), String(kib), String(maxBytes)]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Figures;
}

const heap = suite('Memory engine :: heap under a flood of 200 KiB sessions');

heap('max_bytes 8 MiB :: 500 sessions of 200 KiB retain about the budget, not 100 MiB', async () => {
  const bounded = await flood(500, 200, 8 * MiB);
  assert.ok(bounded.sessions <= 40, `${bounded.sessions} sessions kept`);
  assert.ok(bounded.retainedHeapMiB <= 8 + 8, `retained ${bounded.retainedHeapMiB} MiB`);
  // The control: the same flood with no effective budget keeps every session.
  const unbounded = await flood(500, 200, 2 ** 40);
  assert.is(unbounded.sessions, 500);
  assert.ok(unbounded.retainedHeapMiB >= 90, `the control retained ${unbounded.retainedHeapMiB} MiB`);
});

heap.run();
