/**
 * The peer login apps of bench/asvs/ (express + express-session, fastify + @fastify/session) stay
 * auditable: each starts over HTTPS, the audit logs in and out through them as their description
 * says (a FlowError otherwise), every check finishes, and each row's outcome is still the one
 * docs/asvs-peers.md publishes — so a change to a peer app, to the kit or to a peer's version
 * that would make the published table stale fails here. Without the timeouts (7.3.1, 7.3.2 are
 * n/a here and not compared), so nothing is waited out; `npm run bench:asvs` runs them in full.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { audit, formatTable, type AuditResult } from 'quickstep/asvs';
import type { AuditedApp } from '../../bench/asvs/audited-app.ts';
import { EXPRESS } from '../../bench/asvs/express-app.ts';
import { FASTIFY } from '../../bench/asvs/fastify-app.ts';

const TIMED = ['7.3.1', '7.3.2'];

/** The outcome per requirement id of one framework's column of docs/asvs-peers.md. */
function published(name: string): Map<string, AuditResult['outcome']> {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'asvs-peers.md'), 'utf8');
  const rows = doc.split('\n').filter(line => /^\| (id|\d+\.\d+\.\d+) \|/.test(line)).map(line => line.slice(2, -2).split(' | '));
  const column = rows[0]!.indexOf(name);
  assert.ok(column > 0, `docs/asvs-peers.md has no column ${name}`);
  return new Map(rows.slice(1).map(cells => {
    const text = cells[column]!;
    return [cells[0]!, text === 'pass' ? 'pass' : text.startsWith('**FAIL**') ? 'fail' : 'n/a'];
  }));
}

async function audited(app: AuditedApp): Promise<AuditResult[]> {
  const running = await app.start();
  try {
    const { idleTimeout: _idle, absoluteTimeout: _absolute, ...description } = app.description;
    return await audit(running.url, { ...description, tls: { ca: running.ca } });
  } finally {
    await running.stop();
  }
}

const test = suite('bench/asvs :: the peer login apps');

for (const app of [EXPRESS, FASTIFY]) {
  test(`${app.name}: the audit logs in and out through it over HTTPS, every check finishes, and the outcomes are the published ones`, async () => {
    const rows = await audited(app);
    const table = formatTable(rows);
    assert.not.ok(rows.some(r => r.evidence.startsWith('the check could not finish')), table);
    // The flows really ran: a login gave a session (a fixated id replaced), logout ended it.
    assert.equal(rows.filter(r => ['7.2.2', '7.2.4', '7.4.1'].includes(r.id)).map(r => r.outcome), ['pass', 'pass', 'pass'], table);
    const doc = published(app.name);
    const drifted = rows.filter(r => !TIMED.includes(r.id) && doc.get(r.id) !== r.outcome).map(r => `${r.id}: ${r.outcome}, published ${doc.get(r.id) ?? 'no row'}`);
    assert.equal(drifted, [], `docs/asvs-peers.md is stale (run npm run bench:asvs):\n${table}`);
    assert.equal(rows.filter(r => TIMED.includes(r.id)).map(r => r.outcome), ['n/a', 'n/a']);
  });
}

test.run();
