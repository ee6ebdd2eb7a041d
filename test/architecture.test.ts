/** ARCHITECTURE.md is the map of src/: every file under src/ appears in it, and nothing gone does. */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..');
const map = readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [relative(root, path)] : [];
  });
}

const architecture = suite('ARCHITECTURE.md');

architecture('every src file is on the map', () => {
  const missing = sourceFiles(join(root, 'src')).filter(file => !map.includes(`\`${file}\``));
  assert.equal(missing, [], `add a line for each to ARCHITECTURE.md`);
});

architecture('every src file on the map exists', () => {
  const files = new Set(sourceFiles(join(root, 'src')));
  const named = [...map.matchAll(/`(src\/[\w/.-]+\.ts)`/g)].map(m => m[1]!);
  assert.equal(named.filter(file => !files.has(file)), [], 'remove or rename these in ARCHITECTURE.md');
});

architecture.run();
