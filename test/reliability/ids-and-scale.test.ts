/**
 * The fast part of `npm run reliability` (issue 17): the id checks find a broken generator and
 * pass the real one, and "scale on paper" reads both forms of bench/results.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chiSquareP, idsCheck } from '../../reliability/ids.ts';
import { scaleOnPaper } from '../../reliability/scale.ts';

const ids = suite('reliability :: session ids');

ids('chi-square p-values: the 0.1% and 99.9% points of 63 dof', () => {
  assert.ok(Math.abs(chiSquareP(103.44, 63) - 0.001) < 0.0002);
  assert.ok(Math.abs(chiSquareP(33.91, 63) - 0.999) < 0.0002);
  assert.ok(Math.abs(chiSquareP(2016, 2016) - 0.5) < 0.01);
});

ids('the framework\'s ids: 50,000 without a duplicate, uniform by position and by bit', () => {
  const result = idsCheck(50_000);
  assert.is(result.duplicates, 0);
  assert.ok(result.totalP > 0.0001 && result.totalP < 0.9999, `p = ${result.totalP}`);
  assert.ok(result.maxBitZ < 5, `|z| = ${result.maxBitZ}`);
});

ids('a generator with one biased bit, or with repeats, is caught', () => {
  const biased = idsCheck(50_000, () => { const b = randomBytes(24); b[5]! &= 0xfe; return b.toString('base64url'); });
  assert.ok(biased.maxBitZ > 100 && biased.totalP < 0.001, `z ${biased.maxBitZ}, p ${biased.totalP}`);
  let i = 0;
  const few = Array.from({ length: 1000 }, () => randomBytes(24).toString('base64url'));
  assert.is(idsCheck(5_000, () => few[i++ % 1000]!).duplicates, 4000);
});

ids.run();

const scale = suite('reliability :: scale on paper');

function withBench(text: string, run: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'quickstep-scale-'));
  try {
    mkdirSync(join(root, 'bench'));
    writeFileSync(join(root, 'bench', 'results.md'), text);
    run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

scale('reads CPU µs/req from the current bench table, Node 24 first', () => {
  const header = '| scenario | ratio (CPU) | ratio (req/s) | vs | target | CPU µs/req | req/s (median) | spread | p50 ms | p99 ms | Redis cmds/req | server / load core busy |\n|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|';
  const row = (name: string, cpu: number, cmds: string) => `| ${name} | 1.00x | 1.00x | x | | ${cpu} | 5,000 | ±5% | 1.00 | 2.00 | ${cmds} | 99% / 50% |`;
  const text = ['# Quickstep benchmark results', '', '- date: 2026-12-02T00:00:00.000Z; Quickstep commit: abc1234; took 9 min', '',
    '## Node 20', '', header, row('Node 20 Quickstep Redis read', 400, '1.00'), row('Node 20 Quickstep Redis write', 800, '2.00'), '',
    '## Node 24', '', header, row('Node 24 Quickstep Redis read', 100, '1.00'), row('Node 24 Quickstep Redis write', 200, '2.00 (incl. 1.00 script calls)'), ''].join('\n');
  withBench(text, root => {
    const lines = scaleOnPaper(root, 10).join('\n');
    assert.match(lines, 'commit abc1234 (Node 24)');
    assert.match(lines, 'per app core (one Node process): 10,000 session reads/s or 5,000 session writes/s');
    // Redis: 10 µs a command; a read is 1 command, a write 2.
    assert.match(lines, 'per Redis shard (one master, one core): 100,000 reads/s or 50,000 writes/s');
    assert.match(lines, '| 1 | 13,333 | 13,333 | 13,333 | 13,333 |');
  });
});

scale('an older bench file without the CPU column: derived from req/s and the busy core, and said so', () => {
  const text = ['- date: 2026-12-01T20:33:58.687Z; Quickstep commit: 62dc258', '',
    '| scenario | req/s (median) | spread | ratio | vs | target | Redis cmds/req | server / load core busy |', '|---|---:|---:|---:|---|---|---:|---|',
    '| Quickstep Redis read | 5,000 | ±39% | 0.35x | x | | 1.00 | 50% / 98% |', '| Quickstep Redis write | 2,500 | ±47% | 0.46x | x | | 4.00 | 100% / 99% |', ''].join('\n');
  withBench(text, root => {
    const lines = scaleOnPaper(root, undefined).join('\n');
    assert.match(lines, 'a Quickstep Redis session read costs 100 µs of app CPU (derived');
    assert.match(lines, 'assumed 10 µs');
  });
});

scale('no bench file: says so instead of inventing a figure', () => {
  const root = mkdtempSync(join(tmpdir(), 'quickstep-scale-'));
  try {
    assert.match(scaleOnPaper(root, 10).join('\n'), 'No bench/results.md');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

scale.run();
