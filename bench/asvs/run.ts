/**
 * `npm run bench:asvs`: runs Quickstep's ASVS 5.0 conformance kit (`quickstep/asvs`) against the
 * example app and the express + express-session and fastify + @fastify/session login apps, one
 * after the other, each over HTTPS on 127.0.0.1, prints each table, and writes the side-by-side
 * docs/asvs-peers.md with the date, Node's version and each package's installed version. About a
 * minute: the idle and absolute timeouts are waited out. Not part of `npm test`
 * (test/bench/asvs-peers.test.ts keeps the peer apps auditable, without the waits).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { audit, formatTable } from 'quickstep/asvs';
import type { AuditedApp } from './audited-app.ts';
import { renderDoc, type Column } from './doc.ts';
import { EXPRESS } from './express-app.ts';
import { FASTIFY } from './fastify-app.ts';
import { QUICKSTEP } from './quickstep-app.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const APPS: readonly AuditedApp[] = [QUICKSTEP, EXPRESS, FASTIFY];

const versionOf = (pkg: string): string => JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;

function quickstepVersion(): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'example-app', 'config.yml'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return `quickstep ${version} (commit ${commit}${dirty ? ', with uncommitted changes' : ''})`;
  } catch {
    return `quickstep ${version}`;
  }
}

const started = Date.now();
const columns: Column[] = [];
for (const app of APPS) {
  const running = await app.start();
  try {
    const rows = await audit(running.url, { ...app.description, tls: { ca: running.ca } });
    console.log(`${app.name} (${running.url})\n${formatTable(rows)}`);
    const versions = app === QUICKSTEP ? [quickstepVersion()] : app.packages.map(pkg => `${pkg} ${versionOf(pkg)}`);
    columns.push({ app, rows, versions });
  } finally {
    await running.stop();
  }
}

const doc = renderDoc(columns, { date: new Date(), node: process.version, command: 'npm run bench:asvs', seconds: (Date.now() - started) / 1000 });
writeFileSync(join(ROOT, 'docs', 'asvs-peers.md'), doc);
console.log('wrote docs/asvs-peers.md');
