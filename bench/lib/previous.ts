/**
 * "Against the previous results": every Quickstep scenario of this run beside the same scenario
 * in the results.md it replaces (or any other, `--previous FILE`), so a change that slows a route
 * shows in the run that made it. A row is read as slower only beyond the spread: when its CPU
 * ratio fell by more than the wider of the two runs' spreads for it (each run's range over its
 * rounds, as its table prints it), since this VM moves a route that much with no change at all.
 * Rows whose baseline changed between the two runs (the Cookie engine's, once a Map, now a
 * hand-written AES-GCM cookie) are not compared: their ratios measure different things.
 *
 * It reads the tables themselves, so any results.md written by bench/run.ts can be compared with
 * any other (bench/compare-results.ts does it by hand).
 */

/** One scenario line of a results table. */
export interface ResultLine { ratio: number; vs: string; spread: number }

/** A results.md: when and from which commit, and its scenario lines by name. */
export interface Results { made: string; lines: Map<string, ResultLine> }

/** Reads the scenario tables of a results.md (lines `| name | 0.76x | ... | vs | target | µs | req/s | ±22% | ...`). */
export function parseResults(text: string): Results {
  const date = /^- date: ([^;\n]+); Quickstep commit: ([^;\n]+)/m.exec(text);
  const lines = new Map<string, ResultLine>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || !line.endsWith('|')) continue;
    const cells = line.slice(2, -1).split(' | ').map(cell => cell.trim());
    if (cells.length < 12) continue;
    const [name, ratio, , vs, , , , spread] = cells as [string, string, string, string, string, string, string, string];
    const value = /^(\d+\.\d+)x$/.exec(ratio);
    const range = /^±(\d+)%$/.exec(spread);
    if (value === null || range === null || vs === '') continue;
    lines.set(name, { ratio: Number(value[1]), vs, spread: Number(range[1]) / 100 });
  }
  return { made: date === null ? 'an undated run' : `${date[1]!.slice(0, 16).replace('T', ' ')}, commit ${date[2]}`, lines };
}

type Verdict = 'slower beyond the spread' | 'within the spread' | 'faster beyond the spread';

/** Each Quickstep line in both, with the same baseline, and what became of it. */
export function compareResults(previous: Results, current: Results): { name: string; before: ResultLine; now: ResultLine; verdict: Verdict }[] {
  const compared = [];
  for (const [name, now] of current.lines) {
    const before = previous.lines.get(name);
    if (!name.includes('Quickstep') || before === undefined || before.vs !== now.vs) continue;
    const allowed = Math.max(before.spread, now.spread);
    const change = now.ratio / before.ratio - 1;
    const verdict: Verdict = change < -allowed ? 'slower beyond the spread' : change > allowed ? 'faster beyond the spread' : 'within the spread';
    compared.push({ name, before, now, verdict });
  }
  return compared;
}

/** The section of results.md; empty when there is nothing to compare with. */
export function previousSection(previous: Results | undefined, current: Results): string[] {
  if (previous === undefined) return [];
  const compared = compareResults(previous, current);
  if (compared.length === 0) return [];
  const count = (verdict: Verdict): string[] => compared.filter(c => c.verdict === verdict).map(c => c.name);
  const slower = count('slower beyond the spread');
  const faster = count('faster beyond the spread');
  const percent = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(Math.round(x * 100))}%`;
  return ['## Against the previous results', '',
    `Each Quickstep scenario beside the same one in the results this run replaced (${previous.made}), by the ratio (CPU) to the same baseline. ` +
      'A change counts only beyond the wider of the two runs\' spreads for that row (bench/lib/previous.ts). ' +
      `${compared.length} rows in both: ${faster.length} faster beyond the spread, ${compared.length - slower.length - faster.length} within it, ` +
      `${slower.length} slower beyond it${slower.length > 0 ? ` (${slower.join('; ')})` : ''}.`, '',
    '| scenario | before | now | change | spreads (before / now) | verdict |',
    '|---|---:|---:|---:|---:|---|',
    ...compared.map(({ name, before, now, verdict }) =>
      `| ${name} | ${before.ratio.toFixed(2)}x | ${now.ratio.toFixed(2)}x | ${percent(now.ratio / before.ratio - 1)} | ±${Math.round(before.spread * 100)}% / ±${Math.round(now.spread * 100)}% | ${verdict} |`),
    ''];
}
