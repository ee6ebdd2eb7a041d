/**
 * The documentation's links lead somewhere: every relative link of README.md, CONTRIBUTING.md,
 * ARCHITECTURE.md and docs/ names a file of the repository, and its `#anchor`, if any, a heading
 * of that file (as GitHub makes anchors of headings). And every `docs/design.md#anchor` that the
 * source and the tests cite is a heading of docs/design.md, so renaming a decision's heading
 * cannot strand the comments that point at it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every file below `dir` whose name ends with `ext`, relative to the repository. */
function filesBelow(dir: string, ext: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter(name => name.endsWith(ext) && !name.split(/[\\/]/).includes('node_modules'))
    .map(name => join(dir, name));
}

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors of a markdown file's headings (outside fenced blocks). */
function anchorsOf(file: string): Set<string> {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#+ (.+)$/gm)].map(match => anchorOf(match[1]!)));
}

const MARKDOWN = ['README.md', 'CONTRIBUTING.md', 'ARCHITECTURE.md', ...filesBelow('docs', '.md')];

const test = suite('docs: links');

test('anchors are made as GitHub makes them', () => {
  assert.is(anchorOf('`engines.session.Redis`'), 'enginessessionredis');
  assert.is(anchorOf('Checking it: the ASVS kit'), 'checking-it-the-asvs-kit');
  assert.is(anchorOf('Session, factory and engine'), 'session-factory-and-engine');
});

test('every relative link of the documentation names a file, and its anchor a heading there', () => {
  const problems: string[] = [];
  for (const file of MARKDOWN) {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const linked = path === '' ? file : relative(ROOT, join(ROOT, dirname(file), path));
      if (!existsSync(join(ROOT, linked))) {
        problems.push(`${file}: ${target} names no file (${linked})`);
      } else if (anchor !== undefined && linked.endsWith('.md') && statSync(join(ROOT, linked)).isFile() && !anchorsOf(linked).has(anchor)) {
        problems.push(`${file}: ${target}: ${linked} has no heading with the anchor #${anchor}`);
      }
    }
  }
  assert.ok(MARKDOWN.length > 10, 'read the files');
  assert.equal(problems, [], problems.join('\n'));
});

test('every docs/design.md#anchor the source and the tests cite is a heading of docs/design.md', () => {
  const anchors = anchorsOf('docs/design.md');
  const problems: string[] = [];
  let cited = 0;
  for (const file of [...filesBelow('src', '.ts'), ...filesBelow('test', '.ts')].filter(file => file !== 'test/docs/links.test.ts')) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const [, anchor] of text.matchAll(/docs\/design\.md#([\w-]+)/g)) {
      cited++;
      if (!anchors.has(anchor!)) problems.push(`${file} cites docs/design.md#${anchor}, which is no heading there`);
    }
    // "#expiry, #the-session-cookie": further anchors of the same citation.
    for (const [, more] of text.matchAll(/docs\/design\.md#[\w-]+((?:, #[\w-]+)+)/g)) {
      for (const [, anchor] of more!.matchAll(/#([\w-]+)/g)) if (!anchors.has(anchor!)) problems.push(`${file} cites docs/design.md#${anchor}, which is no heading there`);
    }
  }
  assert.ok(cited > 10, 'found the citations');
  assert.equal(problems, [], problems.join('\n'));
});

test.run();
