/**
 * The layer rule and the import cycles of src/, as the compiler sees them: every import counts,
 * `import type`, `typeof import()` and `await import()` included, since a type that points up the
 * layers couples the code as much as a value does.
 *
 * Layers, bottom to top (a folder of src/, or a root file); a file imports only from its own
 * layer and the layers below it:
 *   base -> session -> views -> config -> response -> request -> server -> process
 *   -> assembly (create-app.ts, dsl.ts) -> cli, testing (src/testing: the test helpers), asvs
 *   (the ASVS conformance kit) -> entry points (index.ts, engine.ts, testing.ts, asvs.ts: the package's exports, which re-export
 *      from every layer, the contract suite in src/testing included; nothing in src imports one).
 * And no cycle among src files at all, within a layer either.
 *
 * The import graph is tsc's own (`--explainFiles`, no type check: a fraction of a second), so
 * what counts as an import is what the compiler resolves, never a regex's guess.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(import.meta.dirname, '..');

const LAYERS: readonly (readonly string[])[] = [
  ['base'],
  ['session'],
  ['views'],
  ['config'],
  ['response'],
  ['request'],
  ['server'],
  ['process'],
  ['create-app.ts', 'dsl.ts'],
  ['cli', 'testing', 'asvs'],
  ['index.ts', 'engine.ts', 'testing.ts', 'asvs.ts'],
];

/**
 * Imports the rules allow for now, each `importer -> imported`: none. A violation found here fails
 * the test, and so does an entry that no longer occurs (so the list can only shrink).
 */
const KNOWN: ReadonlySet<string> = new Set<string>([]);

/** Every import between two src files, as `importer -> imported`, from tsc's explanation of each file. */
function importGraph(): Map<string, Set<string>> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // tsconfig.build.json covers src only; the source condition resolves `quickstep` to src/ should a file import it.
  const explained = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--noEmit', '--noCheck', '--explainFiles', '--customConditions', 'quickstep-source'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const graph = new Map<string, Set<string>>();
  let file = '';
  for (const line of explained.split('\n')) {
    if (!line.startsWith(' ')) {
      file = line.trim();
      if (file.startsWith('src/') && !graph.has(file)) graph.set(file, new Set());
      continue;
    }
    const importer = /^\s+Imported via .* from file '(src\/[^']+)'/.exec(line)?.[1];
    if (importer !== undefined && file.startsWith('src/')) {
      if (!graph.has(importer)) graph.set(importer, new Set());
      graph.get(importer)!.add(file);
    }
  }
  assert.ok(graph.size > 50, `tsc listed ${graph.size} src files:\n${explained.slice(0, 2000)}`);
  return graph;
}

/** A file's layer: the index in LAYERS of its folder under src/, or of its name at the root. */
function layerOf(file: string): number {
  const [, first] = /^src\/([^/]+)/.exec(file)!;
  const layer = LAYERS.findIndex(names => names.includes(first!));
  assert.ok(layer >= 0, `${file} is in no layer: add ${first} to LAYERS (and to ARCHITECTURE.md)`);
  return layer;
}

/** The cycles of a graph: each strongly connected component of more than one file (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.has(file)) found.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

const layers = suite('layers :: src imports point down, and never in a circle');
const graph = importGraph();
const edges = [...graph].flatMap(([from, tos]) => [...tos].map(to => `${from} -> ${to}`));

layers('no file imports from a layer above its own', () => {
  const upward = edges.filter(edge => {
    const [from, to] = edge.split(' -> ') as [string, string];
    return layerOf(to) > layerOf(from);
  });
  const unknown = upward.filter(edge => !KNOWN.has(edge));
  assert.equal(unknown, [], `imports from a higher layer (layers, bottom to top: ${LAYERS.map(names => names.join(', ')).join(' -> ')})`);
});

layers('no import cycle among src files, type-only imports included', () => {
  const withoutKnown = new Map([...graph].map(([from, tos]) => [from, new Set([...tos].filter(to => !KNOWN.has(`${from} -> ${to}`)))]));
  const found = cycles(withoutKnown).map(component => {
    const members = new Set(component);
    return edges.filter(edge => {
      const [from, to] = edge.split(' -> ') as [string, string];
      return members.has(from) && members.has(to) && !KNOWN.has(edge);
    });
  });
  assert.equal(found, [], 'each list is one cycle: the imports among its files');
});

layers('every known violation still occurs (remove the ones that are gone)', () => {
  const present = new Set(edges);
  assert.equal([...KNOWN].filter(edge => !present.has(edge)), []);
});

layers.run();
