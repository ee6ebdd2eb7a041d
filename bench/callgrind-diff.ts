/**
 * Where two routes' instructions differ, function by function, per request: reads two callgrind
 * dumps kept by `npm run bench:instructions -- --keep` (each server's dumps are cg.out.1, .2, .3
 * for its routes in order: untouched, read, write) and names the JIT's code from the
 * /tmp/perf-<pid>.map V8 wrote for it (--keep runs node with --perf-basic-prof).
 *
 *   tsx bench/callgrind-diff.ts DUMP_A REQUESTS_A DUMP_B REQUESTS_B [LINES]
 *
 * REQUESTS: the requests of that dump's counted run (bench:instructions logs them). Prints the
 * functions whose instructions per request grew most from A to B, then those that fell most.
 * Uses `callgrind_annotate` (valgrind's) for the per-function totals.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

interface JitCode { start: number; size: number; name: string }

/** The JIT's code ranges of process `pid`, sorted by start (perf-basic-prof: `start size name` in hex). */
function jitCode(pid: string): JitCode[] {
  const file = `/tmp/perf-${pid}.map`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(line => {
    const [start, size, ...name] = line.split(' ');
    return { start: Number.parseInt(start!, 16), size: Number.parseInt(size!, 16), name: name.join(' ') };
  }).sort((a, b) => a.start - b.start);
}

function nameOf(code: JitCode[], address: number): string | undefined {
  let low = 0;
  let high = code.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (code[mid]!.start <= address) low = mid + 1;
    else high = mid - 1;
  }
  const found = code[high];
  return found !== undefined && address < found.start + found.size ? found.name : undefined;
}

/** Instructions per request by function name. */
function perRequest(dump: string, requests: number): Map<string, number> {
  const pid = /^pid: (\d+)/m.exec(readFileSync(dump, 'utf8').slice(0, 4000))?.[1] ?? '';
  const code = jitCode(pid);
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', dump], { maxBuffer: 256 * 2 ** 20 }).toString();
  const counts = new Map<string, number>();
  for (const line of annotated.split('\n')) {
    const match = /^\s*([\d,]+)\s+\([\s\d.]+%\)\s+\S*?:(.*?)(?: \[.*\])?$/.exec(line);
    if (match === null || line.includes('PROGRAM TOTALS')) continue;
    let name = match[2]!;
    if (name.startsWith('0x')) name = nameOf(code, Number.parseInt(name.split("'")[0]!, 16)) ?? name;
    // The same function from two checkouts reads as one.
    name = name.replace(/file:\/\/\/[^ ]*?\/(src|bench|node_modules)\//, '$1/').slice(0, 120);
    counts.set(name, (counts.get(name) ?? 0) + Number(match[1]!.replaceAll(',', '')) / requests);
  }
  return counts;
}

const [dumpA, requestsA, dumpB, requestsB, lines = '25'] = process.argv.slice(2);
if (dumpB === undefined || requestsB === undefined) {
  process.stderr.write('usage: tsx bench/callgrind-diff.ts DUMP_A REQUESTS_A DUMP_B REQUESTS_B [LINES]\n');
  process.exit(2);
}
const a = perRequest(dumpA!, Number(requestsA));
const b = perRequest(dumpB, Number(requestsB));
const sum = (m: Map<string, number>): number => [...m.values()].reduce((x, y) => x + y, 0);
const diff = [...new Set([...a.keys(), ...b.keys()])].map(name => ({ name, a: a.get(name) ?? 0, b: b.get(name) ?? 0 }))
  .sort((x, y) => (y.b - y.a) - (x.b - x.a));
const row = ({ name, a: before, b: after }: { name: string; a: number; b: number }): string =>
  `${(after - before).toFixed(0).padStart(8)}  ${before.toFixed(0).padStart(8)} -> ${after.toFixed(0).padStart(8)}  ${name}`;
const n = Number(lines);
process.stdout.write([`instructions per request: A ${sum(a).toFixed(0)}, B ${sum(b).toFixed(0)}`,
  'grew most (B - A, A -> B):', ...diff.slice(0, n).map(row), 'fell most:', ...diff.slice(-Math.min(n, 10)).map(row), ''].join('\n'));
