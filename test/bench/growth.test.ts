/**
 * The cost growth tables of results.md (bench/lib/growth.ts): a cost that grows faster than its
 * input is named with its factor, a linear or flat one is not, and a devices run becomes the
 * three curves with Redis's commands per call beside its CPU.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { curveTable, deviceCurves, type Curve } from '../../bench/lib/growth.ts';

const test = suite('bench :: cost growth curves');
const curve = (costs: number[], expect: Curve['expect']): Curve =>
  ({ title: 't', input: 'sessions', xs: [1, 10, 100], label: String, unit: 'µs', expect, series: [{ name: 's', costs }] });
const row = (table: string): string => table.split('\n').find(line => line.startsWith('| s |'))!;

test('a quadratic cost is named above linear with its worst step; a linear one is ≤ linear', () => {
  assert.match(row(curveTable(curve([10, 1000, 100_000], 'linear'))), /100\.00x \| 100\.00x \| 10\.00x above linear \|$/);
  assert.match(row(curveTable(curve([10, 100, 1000], 'linear'))), /10\.00x \| 10\.00x \| ≤ linear \|$/);
  assert.match(row(curveTable(curve([50, 52, 53], 'flat'))), /\| flat \|$/);
  assert.match(row(curveTable(curve([50, 52, 80], 'flat'))), /1\.54x above flat \|$/);
  assert.match(row(curveTable(curve([50, Number.NaN, 80], 'flat'))), /\| — \| — \| — \|$/);
});

test('a devices run gives the list, log-out-everywhere and login curves, Redis with its commands', () => {
  const cost = (cpu: number, commands?: number) => ({ wallMicros: cpu + 1, cpuMicros: cpu, ...(commands === undefined ? {} : { commands }) });
  const curves = deviceCurves([
    { engine: 'memory', points: [1, 1000].map(n => ({ sessions: n, list: cost(n), destroy: cost(n), login: cost(300) })) },
    { engine: 'redis', points: [1, 1000].map(n => ({ sessions: n, list: cost(2 * n, 5), destroy: cost(n, 13), login: cost(400, 6) })) },
  ]);
  assert.equal(curves.map(c => c.expect), ['linear', 'linear', 'flat']);
  const list = curveTable(curves[0]!);
  assert.match(list, /\| Redis, commands per call \| 5\.0 \| 5\.0 \| 1\.00x \| ≤ linear \|/);
  assert.match(list, /per session at the last point: Memory 1\.0 µs, Redis 2\.0 µs/);
  assert.equal(deviceCurves([]), []);
});

test.run();
