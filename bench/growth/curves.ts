/**
 * The growth curves of a bench run (bench/lib/growth.ts writes them): session size and stored
 * sessions from the scale scenarios' rows, sessions per user from bench/growth/devices.ts, run
 * here once per engine, pinned to the server core, on the first runtime.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deviceCurves, growthSection, type Curve, type DevicesRun } from '../lib/growth.ts';
import { cpuOf, type Row } from '../lib/report.ts';
import type { Runtime } from '../lib/runtimes.ts';
import { SESSION_SIZES, sizeLabel, STORED_COUNTS } from '../scenarios.ts';

const exec = promisify(execFile);

/** Runs devices.ts for each engine (its own Redis on `redisCore`); a failed engine is logged and left out. */
export async function runDevices(runtime: Runtime, serverCore: number, redisCore: number, log: (line: string) => void): Promise<DevicesRun[]> {
  const runs: DevicesRun[] = [];
  if (runtime.error !== undefined) return runs;
  for (const engine of ['memory', 'redis', 'cookie', 'cookie-redis']) {
    try {
      const { stdout } = await exec('taskset', ['-c', String(serverCore), runtime.exec, '--conditions=quickstep-source', '--import', import.meta.resolve('tsx'),
        fileURLToPath(new URL('devices.ts', import.meta.url)), engine, '--core', String(redisCore)], { timeout: 600_000, env: { ...process.env, NODE_ENV: 'production' } });
      runs.push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as DevicesRun);
      log(`devices curve on ${engine} done`);
    } catch (error) {
      log(`devices curve on ${engine} failed: ${String(error).slice(0, 200)}`);
    }
  }
  return runs;
}

/** The session-size and stored-sessions curves of runtime `label` from the run's rows. */
export function scaleCurves(rows: Row[], label: string): Curve[] {
  const servers = ['hand-written Map', 'hand-written Redis', 'Quickstep Memory', 'Quickstep Redis'];
  const size: Curve = {
    title: `Session size (${label})`, input: 'session JSON', xs: SESSION_SIZES, label: sizeLabel, unit: 'Server CPU µs/req', expect: 'linear',
    series: servers.flatMap(server => (['read', 'write'] as const).map(route => ({
      name: `${server} ${route}`, costs: SESSION_SIZES.map(b => cpuOf(rows, `${label} ${server} ${route}, ${sizeLabel(b)} session`)),
    }))),
    note: 'A request has a fixed cost (HTTP, the route) that the first steps mostly show; JSON\'s per-KB cost takes over from 10 KB.',
  };
  const count = (n: number): string => n.toLocaleString('en-US');
  const stored: Curve = {
    title: `Stored sessions (${label})`, input: 'sessions stored', xs: STORED_COUNTS, label: count, unit: 'Server CPU µs/req', expect: 'flat',
    series: (['Memory', 'Redis'] as const).flatMap(engine => (['read', 'write'] as const).map(route => ({
      name: `Quickstep ${engine} ${route}`, costs: STORED_COUNTS.map(n => cpuOf(rows, `${label} Quickstep ${engine} ${route}, ${count(n)} stored`)),
    }))),
  };
  return [size, stored].filter(c => c.series.some(s => s.costs.some(x => !Number.isNaN(x))))
    .map(c => ({ ...c, series: c.series.filter(s => s.costs.some(x => !Number.isNaN(x))) }));
}

/** The whole "Cost growth" section, or '' when the run measured no curve. */
export function growthReport(rows: Row[], label: string | undefined, devices: DevicesRun[]): string {
  const curves = [...(label === undefined ? [] : scaleCurves(rows, label)), ...deviceCurves(devices)];
  return growthSection(curves, 'Each curve is one input grown by steps, the rest held still. Session size and stored sessions are the scale scenarios above ' +
    '(wrk, server CPU per request); sessions per user is bench/growth/devices.ts: one user logged in on N sessions, then `userSessions`, ' +
    '`destroyUserSessions` and one more login timed inside the app (in-process over HTTP, median of many calls; see bench/README.md).');
}
