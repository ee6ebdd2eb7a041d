/**
 * `npm run build` (also run by `npm pack` through prepack): a clean dist/ from src/, with the
 * options in tsconfig.build.json, so the published package runs on plain `node`, no loader.
 *
 * One step tsc does not do: it rewrites `.ts` import extensions in the emitted JavaScript
 * (`rewriteRelativeImportExtensions`) but not in the .d.ts files
 * (https://github.com/microsoft/TypeScript/issues/61037, still open in TypeScript 7). A consumer's
 * tsc would then meet `./app.ts` in a declaration file, where no app.ts exists; so relative
 * specifiers ending in `.ts` are rewritten to `.js` here, which resolves to the `.d.ts` beside it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// `from './x.ts'`, `import './x.ts'` and `import('./x.ts')`: relative specifiers only.
const relativeTs = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*?)\.ts\2/g;
let rewritten = 0;
for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join(dist, file);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(relativeTs, (_match, keyword: string, quote: string, stem: string) => `${keyword}${quote}${stem}.js${quote}`);
  if (fixed !== text) {
    writeFileSync(path, fixed);
    rewritten++;
  }
}
console.log(`dist/ built; .ts import extensions rewritten in ${rewritten} declaration files`);
