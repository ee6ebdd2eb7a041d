/**
 * Turns the samples of every round into the results tables. Per scenario: the server's CPU time
 * per request (the headline: it depends far less on what else runs on the machine than req/s),
 * median req/s with its spread, wrk's p50/p99 latency, and two ratios to the baseline, each the
 * median of per-pair ratios: every run of a scenario is paired with a run of its baseline made
 * just before it (run.ts, at most BASELINE_FRESH_MS earlier), because this VM's speed drifts by
 * up to 2x from one minute to the next, which a baseline measured minutes apart in the same
 * round does not cancel. By CPU per request (baseline µs / this µs, so higher is better as with
 * req/s) and by req/s.
 *
 * The Summary a README quotes (summary): per runtime, Node 26 first, route × framework, where
 * Quickstep Cookie is held to the hand-written AES-GCM cookie and Hono is shown three ways (no
 * session middleware, hono-sessions, @hono/session) so the framework's cost reads apart from its
 * session layer's; then the secure defaults cost (secureSummary): the production posture divided
 * by the minimal Quickstep of the same store and route.
 */
import type { Scenario } from '../scenarios.ts';

/** One measured run of one scenario. */
export interface Sample {
  rps: number;
  requests: number;
  failures: number;
  /** Server process CPU time (user + system, all threads and child processes) / requests, in µs. */
  cpuMicros: number;
  p50: number;
  p99: number;
  /** Redis commands executed during the run / requests; undefined for scenarios without Redis. */
  commandsPerRequest: number | undefined;
  /** Of those, EVAL/EVALSHA/FCALL calls per request (their inner commands are in the total too). */
  scriptsPerRequest: number | undefined;
  serverCore: number;
  loadCore: number;
}

/** A scenario with its samples (every run of it), or the reason it did not run. */
export interface Row {
  scenario: Scenario;
  samples: Sample[];
  /** Each run of this scenario as a dependent, with the run of its baseline made just before it. */
  pairs: { self: Sample; base: Sample }[];
  skipped?: string;
}

/** Median of a list; NaN for an empty one. */
export function median(values: number[]): number {
  const sorted = values.filter(v => !Number.isNaN(v)).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const percent = (x: number): string => `${Math.round(x * 100)}%`;
const ms = (x: number): string => (Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));
export const micros = (x: number): string => (Number.isNaN(x) ? '—' : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));

/** The ratio of each of the row's pairs to its baseline run; `by` picks CPU (base µs / this µs) or req/s (this / base). */
export function pairRatios(row: Row, by: 'cpu' | 'rps'): number[] {
  if (row.scenario.baseline === undefined) return [];
  return row.pairs.map(({ self, base }) => (by === 'cpu' ? base.cpuMicros / self.cpuMicros : self.rps / base.rps));
}

/** Median ratio to the baseline over the row's pairs (pairRatios). NaN if none. */
export function ratioOf(row: Row, by: 'cpu' | 'rps'): number {
  return median(pairRatios(row, by));
}

function ratioText(row: Row, by: 'cpu' | 'rps'): string {
  if (row.scenario.baseline === undefined) return by === 'cpu' ? '1.00x (baseline)' : '';
  const value = ratioOf(row, by);
  return Number.isNaN(value) ? '—' : `${value.toFixed(2)}x`;
}

/** The markdown table of some rows, one line per scenario. */
export function table(rows: Row[]): string {
  const lines = [
    '| scenario | ratio (CPU) | ratio (req/s) | vs | target | CPU µs/req | req/s (median) | spread | p50 ms | p99 ms | Redis cmds/req | server / load core busy |',
    '|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const { scenario, samples } = row;
    const vs = scenario.baseline ?? '';
    if (row.skipped !== undefined) {
      lines.push(`| ${scenario.name} | skipped: ${row.skipped.replaceAll('|', '/')} | | ${vs} | ${scenario.target ?? ''} | | | | | | | |`);
      continue;
    }
    const failures = samples.reduce((sum, s) => sum + s.failures, 0);
    const all_ = samples.map(s => s.rps);
    const middle = median(all_);
    const rps = Math.round(middle).toLocaleString('en-US');
    // Range over rounds as a share of the median: a wide one means the machine was not quiet.
    const spread = `±${Math.round(((Math.max(...all_) - Math.min(...all_)) / 2 / middle) * 100)}%`;
    const perRequest = samples.flatMap(s => (s.commandsPerRequest === undefined ? [] : [s.commandsPerRequest]));
    const scripts = median(samples.flatMap(s => (s.scriptsPerRequest === undefined ? [] : [s.scriptsPerRequest])));
    const commands = !perRequest.length ? ''
      : `${median(perRequest).toFixed(2)}${scripts >= 0.005 ? ` (incl. ${scripts.toFixed(2)} script calls)` : ''}`;
    const cores = `${percent(median(samples.map(s => s.serverCore)))} / ${percent(median(samples.map(s => s.loadCore)))}`;
    const note = failures ? ` (${failures} failed responses!)` : '';
    lines.push(`| ${scenario.name} | ${ratioText(row, 'cpu')} | ${ratioText(row, 'rps')} | ${vs} | ${scenario.target ?? ''} | ` +
      `${micros(median(samples.map(s => s.cpuMicros)))} | ${rps}${note} | ${spread} | ${ms(median(samples.map(s => s.p50)))} | ` +
      `${ms(median(samples.map(s => s.p99)))} | ${commands} | ${cores} |`);
  }
  return lines.join('\n');
}

/** Median CPU µs per request of the scenario named `name`; NaN if it did not run. */
export function cpuOf(rows: Row[], name: string): number {
  const row = rows.find(r => r.scenario.name === name);
  return row === undefined || row.skipped !== undefined ? Number.NaN : median(row.samples.map(s => s.cpuMicros));
}

/**
 * The short table a README quotes, for one runtime: one line per route, one column per
 * framework, the ratio by CPU per request with the one by req/s in brackets. Cells whose
 * scenario did not run (filtered out, skipped) are left empty or say "skipped".
 */
export function summary(rows: Row[], label: string): string {
  type Store = 'Memory' | 'Redis' | 'Cookie';
  type Route = 'untouched' | 'read' | 'write';
  /** Each column names its scenario for a line's store and route, or none (an empty cell). */
  const columns: Array<[string, (store: Store, route: Route) => string | undefined]> = [
    ['Quickstep', store => `${label} Quickstep ${store}`],
    ['Quickstep, `keywords: false`', store => (store === 'Cookie' ? undefined : `${label} Quickstep ${store}, keywords off`)],
    ['fastify 5 + @fastify/session', store => (store === 'Redis' ? `${label} fastify+Redis` : undefined)],
    ['express 5 + express-session', store => (store === 'Redis' ? `${label} express+Redis` : undefined)],
    // Hono's framework cost alone: the untouched route, and read/write on a Map in the route (Memory lines).
    ['Hono 4, no session middleware', (store, route) => ((route === 'untouched' ? store === 'Redis' : store === 'Memory') ? `${label} Hono, no session middleware` : undefined)],
    ['Hono 4 + hono-sessions', store => (store === 'Redis' ? `${label} Hono+Redis` : undefined)],
    ['Hono 4 + @hono/session', (store, route) => (store === 'Redis' ? `${label} Hono+@hono/session+Redis` : store === 'Cookie' && route !== 'untouched' ? `${label} Hono+@hono/session Cookie` : undefined)],
    ['Dancer2 + Starman (seed)', store => (store === 'Redis' ? 'Dancer2+Starman+Redis' : undefined)],
  ];
  const lines: Array<[string, Store, Route]> = [
    ['never touches the session (vs bare node:http hello)', 'Redis', 'untouched'],
    ['Redis session read (vs hand-written node:http + ioredis)', 'Redis', 'read'],
    ['Redis session write (same)', 'Redis', 'write'],
    ['Memory session read (vs hand-written Map)', 'Memory', 'read'],
    ['Memory session write (same)', 'Memory', 'write'],
    ['Cookie session read (vs hand-written AES-256-GCM cookie)', 'Cookie', 'read'],
    ['Cookie session write (same)', 'Cookie', 'write'],
  ];
  const cell = (name: string | undefined): string => {
    // Only this runtime's table: the Perl peer is in the first runtime's section alone.
    const row = name === undefined ? undefined : rows.find(r => r.scenario.name === name && r.scenario.section === label);
    if (row === undefined) return '';
    if (row.skipped !== undefined) return 'skipped';
    const cpu = ratioOf(row, 'cpu');
    const rps = ratioOf(row, 'rps');
    return Number.isNaN(cpu) ? '—' : `${cpu.toFixed(2)}x (${rps.toFixed(2)}x)`;
  };
  const nameOf = (column: (store: Store, route: Route) => string | undefined, store: Store, route: Route): string | undefined => {
    const base = column(store, route);
    return base === undefined ? undefined : `${base} ${route}`;
  };
  const used = columns.filter(([, column]) => lines.some(([, store, route]) => cell(nameOf(column, store, route)) !== ''));
  if (used.length === 0) return '';
  return [
    `| ${label}: route | ${used.map(([title]) => title).join(' | ')} |`,
    `|---|${used.map(() => '---:|').join('')}`,
    ...lines.map(([title, store, route]) => {
      const cells = used.map(([, column]) => cell(nameOf(column, store, route)));
      return `| ${title} | ${cells.join(' | ')} |`;
    }),
  ].join('\n');
}

/**
 * The secure defaults cost, for the first runtime: per route and store, the production posture's
 * ratio to the minimal Quickstep scenario (1.00x = free; the target is within 10%, ≥0.91x).
 * Empty when the posture did not run.
 */
export function secureSummary(rows: Row[], label: string): string {
  const section = `Secure defaults cost (${label})`;
  if (!rows.some(r => r.scenario.section === section)) return '';
  const cell = (engine: string, route: string): string => {
    const row = rows.find(r => r.scenario.section === section && r.scenario.name === `${label} Quickstep ${engine}, secure posture ${route}`);
    if (row === undefined) return '';
    if (row.skipped !== undefined) return 'skipped';
    const cpu = ratioOf(row, 'cpu');
    return Number.isNaN(cpu) ? '—' : `${cpu.toFixed(2)}x`;
  };
  return [
    `| ${label}: production posture vs minimal Quickstep (CPU) | Memory | Redis |`,
    '|---|---:|---:|',
    ...['untouched', 'read', 'write'].map(route => `| ${route} | ${cell('Memory', route)} | ${cell('Redis', route)} |`),
  ].join('\n');
}
