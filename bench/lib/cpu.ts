/**
 * Per-core busy time from /proc/stat. Reported beside each result so a reader can check the
 * method held: the server core near 100% (server-bound) and the load core below it (the client
 * and Redis were not the bottleneck).
 */
import { readFileSync } from 'node:fs';

/** Busy and total jiffies for each core, by core number. */
export type CpuSnapshot = Map<number, { busy: number; total: number }>;

/** Reads /proc/stat now. */
export function snapshot(): CpuSnapshot {
  const cores: CpuSnapshot = new Map();
  for (const [, core, rest] of readFileSync('/proc/stat', 'utf8').matchAll(/^cpu(\d+) (.*)$/gm)) {
    const ticks = (rest ?? '').trim().split(/\s+/).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    // Fields 4 and 5 are idle and iowait; everything else is time the core was working.
    cores.set(Number(core), { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total });
  }
  return cores;
}

/** Fraction of time `core` was busy between two snapshots (0..1). */
export function busy(before: CpuSnapshot, after: CpuSnapshot, core: number): number {
  const a = before.get(core);
  const b = after.get(core);
  if (a === undefined || b === undefined || b.total === a.total) return 0;
  return (b.busy - a.busy) / (b.total - a.total);
}
