/**
 * What a full bench run says of itself (bench/lib/previous.ts, bench/lib/targets.ts): each
 * Quickstep row against the results it replaces, slower only beyond the spread; and each target,
 * met or missed, with the µs per request a miss would have to lose and where the profile puts it.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { compareResults, parseResults, previousSection } from '../../bench/lib/previous.ts';
import type { Profiles } from '../../bench/lib/profile-section.ts';
import { table, type Row, type Sample } from '../../bench/lib/report.ts';
import { targetsSection } from '../../bench/lib/targets.ts';
import { parseInstructionCounts } from '../../bench/lib/instruction-counts.ts';
import type { Scenario } from '../../bench/scenarios.ts';

const sample = (cpuMicros: number, rps = 1_000_000 / cpuMicros): Sample =>
  ({ rps, requests: 1000, failures: 0, cpuMicros, p50: 1, p99: 2, commandsPerRequest: undefined, scriptsPerRequest: undefined, serverCore: 1, loadCore: 0.5 });
const scenario = (name: string, baseline?: string, target?: string): Scenario =>
  ({ name, server: { name, kind: 'node', file: 'x.ts', store: 'memory' } as Scenario['server'], path: '/read', section: 'Node 26', ...(baseline === undefined ? {} : { baseline }), ...(target === undefined ? {} : { target }) });
/** A row whose pairs are (self µs, base µs). */
const row = (name: string, baseline: string | undefined, pairs: [number, number][], target?: string): Row => ({
  scenario: scenario(name, baseline, target),
  samples: pairs.map(([self]) => sample(self)),
  pairs: baseline === undefined ? [] : pairs.map(([self, base]) => ({ self: sample(self), base: sample(base) })),
});
const results = (made: string, rows: Row[]): string => `# Quickstep benchmark results\n\n- date: ${made}; Quickstep commit: abc1234; took 1 min\n\n## Node 26\n\n${table(rows)}\n`;

const previous = suite('bench :: against the previous results');

previous('a results.md written by the runner reads back: ratio, baseline and spread per scenario', () => {
  const text = results('2026-12-07T07:00:20.559Z', [
    row('Node 26 hand-written Map read', undefined, [[10, 0], [10, 0], [10.4, 0]]),
    row('Node 26 Quickstep Memory read', 'Node 26 hand-written Map read', [[12.5, 10], [12.5, 10], [13, 10.4]], '≥0.9x'),
  ]);
  const parsed = parseResults(text);
  assert.is(parsed.made, '2026-12-07 07:00, commit abc1234');
  assert.equal(parsed.lines.get('Node 26 Quickstep Memory read'), { ratio: 0.8, vs: 'Node 26 hand-written Map read', spread: 0.02, baseSpread: 0.02 });
  assert.not.ok(parsed.lines.has('Node 26 hand-written Map read'), 'a baseline has no ratio to compare');
});

previous('a row is slower only where its two ranges (± its spread and its baseline\'s) do not meet; a row whose baseline changed is not compared', () => {
  const line = (ratio: number, spread: number, baseSpread: number, vs = 'Map') => ({ ratio, vs, spread, baseSpread });
  const before = { made: 'before', lines: new Map([
    ['Node 26 Quickstep Memory read', line(1.0, 0.05, 0.05)], // 0.90-1.10x
    ['Node 26 Quickstep Memory write', line(1.0, 0.05, 0.05)],
    ['Node 26 Quickstep Memory untouched', line(1.0, 0.02, 0.20)], // 0.78-1.22x: a noisy baseline
    ['Node 26 Quickstep Redis read', line(1.0, 0.05, 0.05)],
    ['Node 26 Quickstep Cookie read', line(1.0, 0.05, 0.05, 'Map')],
    ['Node 26 fastify+Redis read', line(1.0, 0.05, 0.05)],
  ]) };
  const now = { made: 'now', lines: new Map([
    ['Node 26 Quickstep Memory read', line(0.8, 0.05, 0)], // 0.76-0.84x, below 0.90x: slower
    ['Node 26 Quickstep Memory write', line(0.85, 0.10, 0)], // 0.77-0.94x meets 0.90x: within (−15% against the row's own ±10% alone would not be)
    ['Node 26 Quickstep Memory untouched', line(0.8, 0.02, 0.02)], // 0.77-0.83x meets 0.78x: within
    ['Node 26 Quickstep Redis read', line(1.3, 0.05, 0)], // 1.24-1.37x, above 1.10x: faster
    ['Node 26 Quickstep Cookie read', line(0.5, 0.05, 0, 'AES-GCM')], // another baseline: not compared
    ['Node 26 fastify+Redis read', line(0.5, 0.05, 0)], // a peer: not ours to compare
  ]) };
  const verdicts = Object.fromEntries(compareResults(before, now).map(c => [c.name, c.verdict]));
  assert.equal(verdicts, {
    'Node 26 Quickstep Memory read': 'slower beyond the spread',
    'Node 26 Quickstep Memory write': 'within the spread',
    'Node 26 Quickstep Memory untouched': 'within the spread',
    'Node 26 Quickstep Redis read': 'faster beyond the spread',
  });
  const section = previousSection(before, now).join('\n');
  assert.match(section, '4 rows in both: 1 faster beyond the spread, 2 within it, 1 slower beyond it (Node 26 Quickstep Memory read)');
  assert.match(section, '| Node 26 Quickstep Memory read | 1.00x | 0.80x | −20% | 0.90x–1.10x / 0.76x–0.84x | slower beyond the spread |');
  assert.equal(previousSection(undefined, now), [], 'no previous results: no section');
});

const targets = suite('bench :: targets, and where each miss goes');

const profiles: Profiles = {
  date: '2026-12-07', node: 'v26', routes: [],
  differences: [{
    label: 'Memory write', against: 'hand-written Map write', micros: 5.5,
    owners: { 'Quickstep (src/)': 5.2, 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)': -0.5 },
    functions: [['writeUtf8String', 7.0], ['retrieve (src/session/engines/memory/memory.ts:1)', 0.78], ['flush (src/session/engines/memory/memory.ts:1)', 0.6]],
  }],
};

targets('a met target says so; a miss says how many µs per request it would have to lose and where the profile puts them', () => {
  const rows = [
    row('Node 26 Quickstep Memory read', 'Node 26 hand-written Map read', [[20, 19], [21, 20], [22, 20]], '≥0.9x'),
    row('Node 26 Quickstep Memory write', 'Node 26 hand-written Map write', [[24, 18], [23, 16], [22, 15]], '≥0.9x'),
  ];
  const text = targetsSection(rows, profiles, 'Node 26').join('\n');
  assert.match(text, '1 of 2 met.');
  assert.match(text, '| Memory read | ≥0.90x | 0.95x | 0.91–0.95x | met | 21.0 / 20.0 |  |  |');
  // 23 µs against a 16 µs baseline: at 0.9x the route may cost 16 / 0.9 = 17.8 µs, so 5.2 to lose.
  assert.match(text, '| Memory write | ≥0.90x | 0.70x | 0.68–0.75x | missed | 23.0 / 16.0 | 5.2 |');
  assert.match(text, "Quickstep (src/) +5.2, Node HTTP + sockets −0.5; largest named parts: `retrieve (memory)` 0.78, `flush (memory)` 0.60");
});

targets('a posture miss also says what each part of the posture costs', () => {
  const rows = [
    row('Node 26 Quickstep Redis, secure posture read', 'Node 26 Quickstep Redis read', [[40, 30], [40, 30], [40, 30]], '≥0.91x (within 10%)'),
    row('Node 26 Quickstep Redis, secure posture read without hash_ids', 'Node 26 Quickstep Redis, secure posture read', [[36, 40], [36, 40], [36, 40]]),
  ];
  const text = targetsSection(rows, undefined, 'Node 26').join('\n');
  assert.match(text, "| Redis, secure posture read | ≥0.91x | 0.75x | 0.75–0.75x | missed | 40.0 / 30.0 | 7.0 | the posture's parts: without hash_ids 1.11x; not profiled");
});

targets('a missed route the profile does not cover (untouched) :: its instruction counts from bench/instructions.md, read back', () => {
  const counted = parseInstructionCounts([
    '# Instructions per request (callgrind)', '',
    '- date: 2026-12-07T15:11:42.545Z; Quickstep commit: 8dce493; node v26.12.1; valgrind-3.19.0; took 12.4 min', '',
    '| server | route | instructions / request | baseline | its instructions / request | ratio (baseline / this) |',
    '|---|---|---:|---|---:|---:|',
    '| bare node:http hello | untouched | 48.3k |  |  |  |',
    '| Quickstep Redis | untouched | 55.6k | bare node:http hello | 48.3k | 0.87x |',
    '| Quickstep Memory, secure posture | untouched | 54.6k | Quickstep Memory | 49.6k | 0.91x |',
  ].join('\n'));
  assert.is(counted.commit, '8dce493');
  assert.equal([...counted.routes.keys()], ['Quickstep Redis untouched', 'Quickstep Memory, secure posture untouched'], 'a baseline row has no ratio');
  const rows = [
    row('Node 26 Quickstep Redis untouched', 'Node 26 bare node:http hello', [[15, 14], [15, 13.5], [14, 14]], '≥1.0x, 0 cmds'),
    row('Node 26 Quickstep Memory, secure posture untouched', 'Node 26 Quickstep Memory untouched', [[15, 13], [15, 13], [15, 13]], '≥0.91x (within 10%)'),
    row('Node 26 Quickstep Cookie untouched', 'Node 26 bare node:http hello', [[15, 14], [15, 14], [15, 14]], '≥1.0x'),
  ];
  const text = targetsSection(rows, profiles, 'Node 26', counted).join('\n');
  assert.match(text, 'not profiled (no session work); by instructions (bench/instructions.md, commit 8dce493) 55.6k per request against 48.3k of the bare node:http hello: 0.87x |');
  assert.match(text, 'by instructions (bench/instructions.md, commit 8dce493) 54.6k per request against 49.6k of the Quickstep Memory: 0.91x |');
  assert.match(text, '| Cookie untouched | ≥1.00x | 0.93x | 0.93–0.93x | missed | 15.0 / 14.0 | 1.0 | not profiled (a route that never touches the session) |', 'not counted either: said so');
});

previous.run();
targets.run();
