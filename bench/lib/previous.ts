/**
 * "Against the previous results": every Quickstep scenario of this run beside the same scenario
 * in the results.md it replaces (or any other, `--previous FILE`), so a change that slows a route
 * shows in the run that made it.
 *
 * A row is read as slower only beyond the spread: when its CPU ratio's range in this run lies
 * wholly below its range in the previous one. A ratio's range is the ratio ± the spread of the
 * row and the spread of its baseline together (each run's range over its rounds, as its table
 * prints it; a quotient moves with both its parts). Comparing with the wider of the row's own
 * two spreads, as this did before 2026-12-07, left the baseline's spread out and called 6 of 86
 * rows slower between two runs of the same code (07:00 and 13:06 that day): this VM moves a
 * route that much with no change at all. What this cannot see (a few percent) the instruction
 * counts can (bench/instructions.ts --compare).
 *
 * Rows whose baseline changed between the two runs (the Cookie engine's, once a Map, now a
 * hand-written AES-GCM cookie) are not compared: their ratios measure different things.
 *
 * It reads the tables themselves, so any results.md written by bench/run.ts can be compared with
 * any other (bench/compare-results.ts does it by hand).
 */

/**
 * One scenario line of a results table: its ratio, its baseline, its spread and its baseline's
 * (0 when the baseline's line is not in the file).
 */
export interface ResultLine { ratio: number; vs: string; spread: number; baseSpread: number }

/** A results.md: when and from which commit, and its scenario lines by name. */
export interface Results { made: string; lines: Map<string, ResultLine> }

/** Reads the scenario tables of a results.md (lines `| name | 0.76x | ... | vs | target | µs | req/s | ±22% | ...`). */
export function parseResults(text: string): Results {
  const date = /^- date: ([^;\n]+); Quickstep commit: ([^;\n]+)/m.exec(text);
  const spreads = new Map<string, number>();
  const ratios: { name: string; ratio: number; vs: string; spread: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || !line.endsWith('|')) continue;
    const cells = line.slice(2, -1).split(' | ').map(cell => cell.trim());
    if (cells.length < 12) continue;
    const [name, ratio, , vs, , , , spread] = cells as [string, string, string, string, string, string, string, string];
    const range = /^±(\d+)%$/.exec(spread);
    if (range === null) continue;
    // Every line's spread, the baselines' too (`1.00x (baseline)`): a ratio's range needs both.
    spreads.set(name, Number(range[1]) / 100);
    const value = /^(\d+\.\d+)x$/.exec(ratio);
    if (value !== null && vs !== '') ratios.push({ name, ratio: Number(value[1]), vs, spread: Number(range[1]) / 100 });
  }
  const lines = new Map<string, ResultLine>();
  for (const { name, ...line } of ratios) lines.set(name, { ...line, baseSpread: spreads.get(line.vs) ?? 0 });
  return { made: date === null ? 'an undated run' : `${date[1]!.slice(0, 16).replace('T', ' ')}, commit ${date[2]}`, lines };
}

type Verdict = 'slower beyond the spread' | 'within the spread' | 'faster beyond the spread';

/** The range a line's ratio moves in: ± its spread and its baseline's. */
export function ratioRange(line: ResultLine): [low: number, high: number] {
  const spread = line.spread + line.baseSpread;
  return [line.ratio * (1 - spread), line.ratio * (1 + spread)];
}

/** Each Quickstep line in both, with the same baseline, and what became of it. */
export function compareResults(previous: Results, current: Results): { name: string; before: ResultLine; now: ResultLine; verdict: Verdict }[] {
  const compared = [];
  for (const [name, now] of current.lines) {
    const before = previous.lines.get(name);
    if (!name.includes('Quickstep') || before === undefined || before.vs !== now.vs) continue;
    const [beforeLow, beforeHigh] = ratioRange(before);
    const [nowLow, nowHigh] = ratioRange(now);
    const verdict: Verdict = nowHigh < beforeLow ? 'slower beyond the spread' : nowLow > beforeHigh ? 'faster beyond the spread' : 'within the spread';
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
  const range = (line: ResultLine): string => ratioRange(line).map(x => `${x.toFixed(2)}x`).join('–');
  const percent = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(Math.round(x * 100))}%`;
  return ['## Against the previous results', '',
    `Each Quickstep scenario beside the same one in the results this run replaced (${previous.made}), by the ratio (CPU) to the same baseline. ` +
      'Each ratio is given with its range: ± the spread of its row and of its baseline in that run (a ratio moves with both). ' +
      'A row counts as slower or faster only when its two ranges do not meet (bench/lib/previous.ts). ' +
      `${compared.length} rows in both: ${faster.length} faster beyond the spread, ${compared.length - slower.length - faster.length} within it, ` +
      `${slower.length} slower beyond it${slower.length > 0 ? ` (${slower.join('; ')})` : ''}.`, '',
    '| scenario | before | now | change | ranges (before / now) | verdict |',
    '|---|---:|---:|---:|---:|---|',
    ...compared.map(({ name, before, now, verdict }) =>
      `| ${name} | ${before.ratio.toFixed(2)}x | ${now.ratio.toFixed(2)}x | ${percent(now.ratio / before.ratio - 1)} | ${range(before)} / ${range(now)} | ${verdict} |`),
    ''];
}
