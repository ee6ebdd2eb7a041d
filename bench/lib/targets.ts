/**
 * "Targets, and where each miss goes": every target on the headline runtime (the routes' ratios to
 * their hand-written limits, and the secure posture within 10% of the minimal route), met or not,
 * with the range of its pairs' ratios beside the median, so a reader sees how far the VM moved it.
 * For a miss: how many µs per request the route would have to lose to meet it (its CPU per
 * request against its baseline's divided by the target), and where the profile of the same code
 * puts what the route adds to its baseline, by who spends it (Quickstep's own code, ioredis,
 * Node's HTTP, GC); for the posture, what each part costs (the "without X" rows). Why each part
 * stays is said below it, in the profile section (profile-section.ts).
 */
import { OWNERS, reasonFor, shortName, SHORT, type Difference, type Profiles } from './profile-section.ts';
import type { InstructionCounts } from './instruction-counts.ts';
import { median, pairRatios, ratioOf, type Row } from './report.ts';

/** A row's target ratio, from its `target` text (`≥0.9x`, `≥0.85x, ≤2 cmds`, `≥0.91x (within 10%)`). */
const targetOf = (row: Row): number | undefined => {
  const match = /^≥(\d+(?:\.\d+)?)x/.exec(row.scenario.target ?? '');
  return match === null ? undefined : Number(match[1]);
};

/** The profile's label for a scenario's route (bench/profile.ts names them so). */
function profileLabel(store: string, posture: boolean, route: string): string {
  if (posture) return `${store} ${route}, secure posture`;
  return store === 'Redis' && route === 'write' ? 'Redis write (read, then increment)' : `${store} ${route}`;
}

/**
 * A route the profile does not cover (it never touches the session): what the instruction counts
 * say of it, free of the drift that moves its pairs.
 */
function unprofiled(counted: InstructionCounts | undefined, name: string): string {
  const route = counted?.routes.get(name);
  if (route === undefined) return 'not profiled (a route that never touches the session)';
  return `not profiled (no session work); by instructions (bench/instructions.md, commit ${counted!.commit}) ` +
    `${route.instructions} per request against ${route.baselineInstructions} of the ${route.baseline}: ${route.ratio}`;
}

/** Who spends what the route adds to what it is divided by, as the profile measured it. */
function whereItGoes(difference: Difference | undefined, unprofiledText: string): string {
  if (difference === undefined) return unprofiledText;
  const parts = OWNERS.map(owner => [SHORT[owner] ?? owner, difference.owners[owner] ?? 0] as const)
    .filter(([, micros]) => Math.abs(micros) >= 0.05)
    .map(([owner, micros]) => `${owner} ${micros >= 0 ? '+' : '−'}${Math.abs(micros).toFixed(1)}`);
  // The functions that grew most among those "What is left" gives a reason for (Quickstep's own, and Node's work it asks for).
  const top = difference.functions.filter(([name, micros]) => micros > 0 && reasonFor(shortName(name)) !== undefined).slice(0, 3)
    .map(([name, micros]) => `\`${shortName(name).replaceAll('|', '\\|')}\` ${micros.toFixed(2)}`);
  return `${difference.micros >= 0 ? '+' : '−'}${Math.abs(difference.micros).toFixed(1)} in all: ${parts.join(', ')}${top.length > 0 ? `; largest named parts: ${top.join(', ')}` : ''}`;
}

export function targetsSection(rows: Row[], profiles: Profiles | undefined, label: string, counted?: InstructionCounts): string[] {
  const pattern = new RegExp(`^${label} Quickstep (Memory|Redis|Cookie)(, secure posture)? (untouched|read|write)$`);
  const lines: string[] = [];
  let missed = 0;
  for (const row of rows) {
    const match = pattern.exec(row.scenario.name);
    const target = targetOf(row);
    if (match === null || target === undefined || row.skipped !== undefined || row.pairs.length === 0) continue;
    const [, store, posture, route] = match as unknown as [string, string, string | undefined, string];
    const ratio = ratioOf(row, 'cpu');
    const ratios = pairRatios(row, 'cpu');
    const self = median(row.pairs.map(p => p.self.cpuMicros));
    const base = median(row.pairs.map(p => p.base.cpuMicros));
    const met = ratio >= target;
    if (!met) missed++;
    const range = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}x`;
    const name = `${store}${posture ?? ''} ${route}`;
    let where = '';
    if (!met) {
      const difference = profiles?.differences?.find(d => d.label === profileLabel(store, posture !== undefined, route));
      const parts = posture === undefined ? [] : rows
        .filter(r => r.scenario.name.startsWith(`${row.scenario.name} without `) && r.pairs.length > 0)
        .map(r => `without ${r.scenario.name.slice(row.scenario.name.length + ' without '.length)} ${ratioOf(r, 'cpu').toFixed(2)}x`);
      const counts = unprofiled(counted, `Quickstep ${store}${posture ?? ''} ${route}`);
      where = (parts.length > 0 ? `the posture's parts: ${parts.join(', ')}; ` : '') + whereItGoes(difference, counts);
    }
    const lose = met ? '' : `${(self - base / target).toFixed(1)}`;
    lines.push(`| ${name} | ≥${target.toFixed(2)}x | ${ratio.toFixed(2)}x | ${range} | ${met ? 'met' : 'missed'} | ${self.toFixed(1)} / ${base.toFixed(1)} | ${lose} | ${where} |`);
  }
  if (lines.length === 0) return [];
  return [`## Targets (${label}), and where each miss goes`, '',
    `${lines.length - missed} of ${lines.length} met. Ratio (CPU) is the median over the pairs (each run beside a run of its baseline), the range is theirs. ` +
      'For a miss: the µs per request the route would have to lose to meet its target (its CPU per request less its baseline\'s divided by the target), ' +
      'and where the profile (same code, bench/profile.json) puts what the route adds to what it is divided by, in µs per request: ' +
      'Quickstep\'s own code (src/), ioredis, Node\'s HTTP and sockets, GC, and the functions that grew most; for a route the profile does not cover, its instructions per request against its baseline\'s (bench/instructions.md). ' +
      'The posture rows also give what each part costs ' +
      '(the posture without it, divided by the whole: 1.10x = that part is 10% of its CPU). Why each part stays: "What is left" at the end of the profile section.', '',
    '| route | target | ratio (CPU) | pairs\' range | | µs / req: this / baseline | µs / req to lose to meet it | where the extra goes (profile, µs / req) |',
    '|---|---:|---:|---:|---|---:|---:|---|',
    ...lines, ''];
}
