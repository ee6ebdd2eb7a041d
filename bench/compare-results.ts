/**
 * Compares two results files the way a full run compares itself with the one it replaces
 * (lib/previous.ts), for runs made apart:
 *
 *   tsx bench/compare-results.ts OLD.md [NEW.md]     (NEW: bench/results.md)
 *
 * e.g. against the results an issue was filed on: `git show 15aad13:bench/results.md > /tmp/old.md`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseResults, previousSection } from './lib/previous.ts';

const [oldFile, newFile = fileURLToPath(new URL('results.md', import.meta.url))] = process.argv.slice(2);
if (oldFile === undefined) {
  process.stderr.write('usage: tsx bench/compare-results.ts OLD.md [NEW.md]\n');
  process.exit(2);
}
const lines = previousSection(parseResults(readFileSync(oldFile, 'utf8')), parseResults(readFileSync(newFile, 'utf8')));
process.stdout.write(lines.length === 0 ? 'no Quickstep scenario with the same baseline in both\n' : `${lines.join('\n')}\n`);
