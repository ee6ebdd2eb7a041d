/**
 * The instruction counts of bench/instructions.md (bench/instructions.ts writes it), read back for
 * the Targets section: a route the profile does not cover (one that never touches the session)
 * still gets a drift-free figure for a miss, its instructions per request against its baseline's.
 */
import { existsSync, readFileSync } from 'node:fs';

/** One counted route: `Quickstep Memory untouched` → 49.6k against the bare server's 48.3k. */
export interface CountedRoute { instructions: string; baseline: string; baselineInstructions: string; ratio: string }

/** What instructions.md says: its commit, and its counted routes by `server route`. */
export interface InstructionCounts { commit: string; routes: Map<string, CountedRoute> }

/** Reads an instructions.md: the date line's commit and each table row with a ratio. */
export function parseInstructionCounts(text: string): InstructionCounts {
  const commit = /Quickstep commit: ([^;\n]+)/.exec(text)?.[1] ?? 'unknown';
  const routes = new Map<string, CountedRoute>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || !line.endsWith('|')) continue;
    const [server, route, instructions, baseline, baselineInstructions, ratio] = line.slice(2, -1).split(' | ').map(cell => cell.trim());
    if (ratio === undefined || !/^\d+\.\d+x$/.test(ratio) || baseline === undefined || baselineInstructions === undefined || instructions === undefined) continue;
    routes.set(`${server} ${route}`, { instructions, baseline, baselineInstructions, ratio });
  }
  return { commit, routes };
}

/** bench/instructions.md, if a count was made. */
export function readInstructionCounts(file: URL): InstructionCounts | undefined {
  return existsSync(file) ? parseInstructionCounts(readFileSync(file, 'utf8')) : undefined;
}
