/**
 * The "Cost growth" section of results.md: one table per curve (session size, stored sessions,
 * sessions per user), each point's cost and, between neighbouring points, the growth factor of
 * the cost beside the factor of the input. A cost that grows faster than its input shows as a
 * cost factor above the input factor; flat as 1.00x whatever the input.
 */

/** One curve: the inputs (x) and, per series, the cost at each x (NaN where not measured). */
export interface Curve {
  title: string;
  /** What x is, e.g. "session size". */
  input: string;
  xs: number[];
  label: (x: number) => string;
  /** What the costs are, e.g. "CPU µs/req". */
  unit: string;
  series: { name: string; costs: number[] }[];
  /** Whether the cost is expected flat (stored sessions) or linear in x (size, devices). */
  expect: 'flat' | 'linear';
  note?: string;
}

const fixed = (x: number): string => (Number.isNaN(x) ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

/**
 * A curve as a Markdown table: cost per point, then each step's cost factor against its input
 * factor; the last column is the worst step: "≤ linear" when no step grew faster than its input
 * (15% allowance for the spread), else the step's factor.
 */
export function curveTable(curve: Curve): string {
  const steps = curve.xs.slice(1).map((x, i) => ({ from: curve.xs[i]!, to: x }));
  const head = [
    `| ${curve.input} → | ${curve.xs.map(curve.label).join(' | ')} | ${steps.map(s => `${curve.label(s.from)} → ${curve.label(s.to)} (input ×${s.to / s.from}): cost ×`).join(' | ')} | verdict |`,
    `|---|${curve.xs.map(() => '---:|').join('')}${steps.map(() => '---:|').join('')}---|`,
  ];
  const rows = curve.series.map(({ name, costs }) => {
    const factors = steps.map((_, i) => costs[i + 1]! / costs[i]!);
    const worst = steps.map((s, i) => factors[i]! / (curve.expect === 'flat' ? 1 : s.to / s.from));
    const measured = worst.filter(w => !Number.isNaN(w));
    const verdict = measured.length === 0 ? '—'
      : Math.max(...measured) <= 1.15 ? (curve.expect === 'flat' ? 'flat' : '≤ linear')
      : `${Math.max(...measured).toFixed(2)}x ${curve.expect === 'flat' ? 'above flat' : 'above linear'}`;
    return `| ${name} | ${costs.map(fixed).join(' | ')} | ${factors.map(f => (Number.isNaN(f) ? '—' : `${f.toFixed(2)}x`)).join(' | ')} | ${verdict} |`;
  });
  return [`### ${curve.title}`, '', `${curve.unit} per point, then each step's cost factor beside its input factor.` +
    ` ${curve.expect === 'flat' ? 'Flat is 1.00x at every step.' : 'Linear is a cost factor equal to the input factor (×10 → 10x), or less while a fixed cost dominates.'}`,
  '', ...head, ...rows, ...(curve.note ? ['', curve.note] : []), ''].join('\n');
}

/** One engine's devices curve as bench/growth/devices.ts prints it. */
export interface DevicesRun {
  engine: string;
  points: { sessions: number; list: DeviceCost; destroy: DeviceCost; login: DeviceCost }[];
}
interface DeviceCost { wallMicros: number; cpuMicros: number; commands?: number }

/** The devices curves (userSessions, destroyUserSessions, a login) from the engines' runs. */
export function deviceCurves(runs: DevicesRun[]): Curve[] {
  if (runs.length === 0) return [];
  const xs = [...new Set(runs.flatMap(r => r.points.map(p => p.sessions)))].sort((a, b) => a - b);
  const at = (run: DevicesRun, n: number) => run.points.find(p => p.sessions === n);
  const name = (engine: string): string => ({ memory: 'Memory', redis: 'Redis', cookie: 'Cookie (revocation on Memory)', 'cookie-redis': 'Cookie (revocation on Redis)' } as Record<string, string>)[engine] ?? engine;
  const curve = (title: string, what: 'list' | 'destroy' | 'login', expect: Curve['expect'], note: string): Curve => ({
    title, input: 'sessions of the user', xs, label: n => n.toLocaleString('en-US'), unit: 'App CPU µs per call', expect, note,
    series: runs.flatMap(run => {
      const cpu = { name: name(run.engine), costs: xs.map(n => at(run, n)?.[what].cpuMicros ?? NaN) };
      const wall = { name: `${name(run.engine)}, wall µs`, costs: xs.map(n => at(run, n)?.[what].wallMicros ?? NaN) };
      const cmds = run.engine === 'redis' || run.engine === 'cookie-redis' ? [{ name: run.engine === 'redis' ? 'Redis, commands per call' : `${name(run.engine)}, Redis commands per call`, costs: xs.map(n => at(run, n)?.[what].commands ?? NaN) }] : [];
      return [cpu, ...(run.engine === 'redis' ? [wall] : []), ...cmds];
    }),
  });
  return [
    curve('Sessions per user: userSessions(userId)', 'list', 'linear', 'The list holds every session, so linear is the floor; per session at the last point: ' +
      runs.map(r => { const p = r.points.at(-1); return p ? `${name(r.engine)} ${(p.list.cpuMicros / p.sessions).toFixed(1)} µs` : ''; }).join(', ') + '.'),
    curve('Sessions per user: destroyUserSessions(userId) (log out everywhere)', 'destroy', 'linear', 'On Memory and Redis every session is deleted (linear); the Cookie engine records one not-before per user, its cost is the revocation store\'s list of the user\'s seals.'),
    curve('Sessions per user: one more login', 'login', 'flat', 'The whole request, client included. The owner index\'s upkeep (Redis: a prune when the index reaches a power of two past 32) must not make a login dearer for a user with many devices.'),
  ];
}

/** The section: a heading, how it was measured, and the tables. */
export function growthSection(curves: Curve[], method: string): string {
  if (curves.length === 0) return '';
  return ['## Cost growth', '', method, '', ...curves.map(curveTable)].join('\n');
}
