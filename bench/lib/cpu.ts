/**
 * CPU accounting. The server process's own CPU time (/proc/<pid>/stat), which the report divides
 * by the requests served: CPU per request. And per-core busy time from /proc/stat, reported beside
 * each result so a reader can check the method held: the server core near 100% (server-bound) and
 * the load core below it (the client and Redis were not the bottleneck).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Busy, stolen and total jiffies for each core, by core number. `steal` is time the hypervisor
 * gave to other guests: on a VM, a tail latency is only as good as that share.
 */
export type CpuSnapshot = Map<number, { busy: number; steal: number; total: number }>;

/** Reads /proc/stat now. */
export function snapshot(): CpuSnapshot {
  const cores: CpuSnapshot = new Map();
  for (const [, core, rest] of readFileSync('/proc/stat', 'utf8').matchAll(/^cpu(\d+) (.*)$/gm)) {
    const ticks = (rest ?? '').trim().split(/\s+/).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    // Fields 4 and 5 are idle and iowait; everything else is time the core was working. Field 8 is steal.
    cores.set(Number(core), { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), steal: ticks[7] ?? 0, total });
  }
  return cores;
}

/** The share of all cores' time that was stolen between two snapshots, as "4.2%". */
export function stealBetween(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): string {
  let steal = 0, total = 0;
  for (const [core, b] of after ?? []) {
    const a = before?.get(core);
    if (a === undefined) continue;
    steal += b.steal - a.steal;
    total += b.total - a.total;
  }
  return total > 0 ? `${((100 * steal) / total).toFixed(1)}%` : 'unknown';
}

/** Fraction of time `core` was busy between two snapshots (0..1). */
export function busy(before: CpuSnapshot, after: CpuSnapshot, core: number): number {
  const a = before.get(core);
  const b = after.get(core);
  if (a === undefined || b === undefined || b.total === a.total) return 0;
  return (b.busy - a.busy) / (b.total - a.total);
}

let clockTicks: number | undefined;
/** Kernel clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat's times. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { clockTicks = 100; }
  }
  return clockTicks;
}

/** utime + stime of one process (all its threads), in ticks; 0 once it is gone. */
function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that ends the command name: state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch { return 0; }
}

/** The process's children, from every thread's /proc/<pid>/task/<tid>/children. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap(tid => {
      try { return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
    });
  } catch { return []; }
}

/**
 * CPU seconds used so far by `pid` and every process under it (a Starman master and its workers;
 * a Node server is one process). Sampled before and after a run: the difference over the requests
 * is the server's own CPU per request, which depends far less on what else the machine does than
 * req/s. A worker that exits mid-run takes its ticks with it, so prefork servers should not
 * recycle workers during a run.
 */
export function processCpuSeconds(pid: number): number {
  let ticks = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    ticks += ownTicks(next);
    pending.push(...childrenOf(next));
  }
  return ticks / ticksPerSecond();
}
