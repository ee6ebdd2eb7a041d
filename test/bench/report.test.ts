/**
 * The ratios of results.md (bench/lib/report.ts): each run of a scenario is divided by the run of
 * its baseline made just before it, not by the baseline's run of the same round, which on a VM
 * whose speed drifts can be minutes away.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { ratioOf, type Row, type Sample } from '../../bench/lib/report.ts';
import type { Scenario } from '../../bench/scenarios.ts';

const test = suite('bench :: ratios over pairs of runs');
const sample = (cpuMicros: number, rps = 1_000_000 / cpuMicros): Sample =>
  ({ rps, requests: 1000, failures: 0, cpuMicros, p50: 1, p99: 2, commandsPerRequest: undefined, scriptsPerRequest: undefined, serverCore: 1, loadCore: 0.5 });
const scenario = (name: string, baseline?: string): Scenario =>
  ({ name, server: { name, kind: 'node', file: 'x.ts', store: 'memory' } as Scenario['server'], path: '/read', section: 'Node 26', ...(baseline === undefined ? {} : { baseline }) });

test('a ratio divides each run by the baseline run paired with it, whatever else the baseline measured', () => {
  // The machine halves its speed between the pairs: each pair says 0.80x, whatever the
  // baseline's other runs (re-runs for other scenarios) measured.
  const row: Row = {
    scenario: scenario('quickstep', 'hand'),
    samples: [sample(12.5), sample(25), sample(12.5)],
    pairs: [{ self: sample(12.5), base: sample(10) }, { self: sample(25), base: sample(20) }, { self: sample(12.5), base: sample(10) }],
  };
  assert.is(ratioOf(row, 'cpu').toFixed(2), '0.80');
  assert.is(ratioOf(row, 'rps').toFixed(2), '0.80');
});

test('a baseline has no ratio, and a scenario that never ran beside its baseline has none either', () => {
  const base: Row = { scenario: scenario('hand'), samples: [sample(10)], pairs: [] };
  assert.ok(Number.isNaN(ratioOf(base, 'cpu')));
  const lonely: Row = { scenario: scenario('quickstep', 'hand'), samples: [sample(12)], pairs: [] };
  assert.ok(Number.isNaN(ratioOf(lonely, 'cpu')));
});

test.run();
