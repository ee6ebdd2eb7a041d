/** The process table as a test sees it (Linux /proc): a process's children, a script's processes, liveness. */
import { readdirSync, readFileSync } from 'node:fs';

/** The pids in /proc for which `matches` holds; a process that ends while being read is skipped. */
function pidsWhere(matches: (pid: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter(name => /^\d+$/.test(name))
    .filter(name => {
      try {
        return matches(name);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return pidsWhere(name => {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ")".
    const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
  });
}

/** The pids of processes whose command line names `dir` (an app's primary and workers run a script there). */
export function runningFrom(dir: string): number[] {
  return pidsWhere(name => readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir));
}

/** Whether `pid` is a process this one could signal (a zombie not yet reaped counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
