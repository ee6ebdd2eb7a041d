/**
 * Turns the samples of every round into the results table: median req/s, median of the
 * per-round ratios to the baseline (rounds are interleaved, so a ratio within one round cancels
 * drift that medians taken apart would not), and Redis commands per request.
 */
import type { Scenario } from '../scenarios.ts';

/** One measured run of one scenario. */
export interface Sample {
  rps: number;
  failures: number;
  /** Redis commands executed during the run / requests; undefined for scenarios without Redis. */
  commandsPerRequest: number | undefined;
  /** Of those, EVAL/EVALSHA/FCALL calls per request (their inner commands are in the total too). */
  scriptsPerRequest: number | undefined;
  serverCore: number;
  loadCore: number;
}

/** A scenario with its samples, one per round, or the reason it did not run. */
export interface Row {
  scenario: Scenario;
  samples: Sample[];
  skipped?: string;
}

/** Median of a non-empty list; NaN for an empty one. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const percent = (x: number): string => `${Math.round(x * 100)}%`;

function ratio(row: Row, rows: Row[]): string {
  const base = rows.find(r => r.scenario.name === row.scenario.baseline);
  if (row.scenario.baseline === undefined) return '1.00x (baseline)';
  if (base === undefined || base.samples.length === 0) return '—';
  const ratios = row.samples.map((s, i) => s.rps / (base.samples[i]?.rps ?? Number.NaN));
  return `${median(ratios).toFixed(2)}x`;
}

/** The markdown table, one line per scenario. */
export function table(rows: Row[]): string {
  const lines = [
    '| scenario | req/s (median) | spread | ratio | vs | target | Redis cmds/req | server / load core busy |',
    '|---|---:|---:|---:|---|---|---:|---|',
  ];
  for (const row of rows) {
    const { scenario, samples } = row;
    const vs = scenario.baseline ?? '';
    if (row.skipped !== undefined) {
      lines.push(`| ${scenario.name} | skipped: ${row.skipped.replaceAll('|', '/')} | | | ${vs} | ${scenario.target ?? ''} | | |`);
      continue;
    }
    const failures = samples.reduce((sum, s) => sum + s.failures, 0);
    const all = samples.map(s => s.rps);
    const middle = median(all);
    const rps = Math.round(middle).toLocaleString('en-US');
    // Range over rounds as a share of the median: a wide one means the machine was not quiet.
    const spread = `±${Math.round(((Math.max(...all) - Math.min(...all)) / 2 / middle) * 100)}%`;
    const perRequest = samples.flatMap(s => (s.commandsPerRequest === undefined ? [] : [s.commandsPerRequest]));
    const scripts = median(samples.flatMap(s => (s.scriptsPerRequest === undefined ? [] : [s.scriptsPerRequest])));
    const commands = !perRequest.length ? ''
      : `${median(perRequest).toFixed(2)}${scripts >= 0.005 ? ` (incl. ${scripts.toFixed(2)} script calls)` : ''}`;
    const cores = `${percent(median(samples.map(s => s.serverCore)))} / ${percent(median(samples.map(s => s.loadCore)))}`;
    const note = failures ? ` (${failures} failed responses!)` : '';
    lines.push(`| ${scenario.name} | ${rps}${note} | ${spread} | ${ratio(row, rows)} | ${vs} | ${scenario.target ?? ''} | ${commands} | ${cores} |`);
  }
  return lines.join('\n');
}
