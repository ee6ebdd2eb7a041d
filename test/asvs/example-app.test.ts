/**
 * The kit against the example app as `npm start` builds it (test/example-app/harness.ts), on each
 * engine, reached three ways:
 * - over HTTPS served by the app itself (a certificate made by the test), with idle and absolute
 *   timeouts short enough to audit (SESSION_DURATION / ABSOLUTE_DURATION): every applicable row
 *   passes;
 * - over HTTPS through a TLS-terminating proxy the app trusts (TRUST_PROXY, X-Forwarded-Proto):
 *   every applicable row passes;
 * - over plain http on localhost (development): only the two cookie-name rows fail, because a
 *   browser drops a Secure or `__Host-` cookie there; everything else holds.
 * What stays n/a is what the example app does not have: accounts to disable, credentials to change.
 */
import * as assert from 'uvu/assert';
import { audit, formatTable, type AuditOptions, type AuditResult } from 'quickstep/asvs';
import { ENGINES, EXAMPLE_APP, serve, type Engine, type Served, type Transport } from '../example-app/harness.ts';
import { redisSuite } from '../support/redis-server.ts';
import { suite } from 'uvu';

/** The timeouts the HTTPS run configures (seconds): short, so the audit can wait them out. */
const IDLE = 3;
const ABSOLUTE = 6;

const NOT_IN_THE_APP = ['7.4.2', '7.4.3'];
const ALL_ROWS = ['3.3.1', '3.3.2', '3.3.3', '3.3.4', '3.3.5', '3.5.1', '3.5.2', '3.5.3', '7.2.1', '7.2.2', '7.2.3', '7.2.4', '7.3.1', '7.3.2', '7.4.1', '7.4.2', '7.4.3', '7.5.2', '14.2.1', '14.3.1', '14.3.2'];

const ids = (rows: AuditResult[], outcome: AuditResult['outcome']) => rows.filter(r => r.outcome === outcome).map(r => r.id);

async function audited(engine: Engine, over: Transport, timeouts: boolean): Promise<AuditResult[]> {
  const env: Record<string, string> = timeouts ? { SESSION_DURATION: String(IDLE), ABSOLUTE_DURATION: String(ABSOLUTE) } : {};
  const served: Served = await serve(engine, { over, env });
  try {
    const options: AuditOptions = { ...EXAMPLE_APP, ...(timeouts ? { idleTimeout: IDLE, absoluteTimeout: ABSOLUTE } : {}), ...(served.ca === undefined ? {} : { tls: { ca: served.ca } }) };
    const rows = await audit(served.url, options);
    if (process.env.ASVS_PRINT) console.log(`${engine} over ${over}\n${formatTable(rows)}`);
    assert.equal(rows.map(r => r.id), ALL_ROWS);
    assert.not.ok(rows.some(r => r.evidence.startsWith('the check could not finish')), formatTable(rows));
    return rows;
  } finally {
    await served.stop();
  }
}

for (const engine of ENGINES) {
  const test = engine === 'Redis' ? redisSuite(`asvs :: the example app on ${engine}`) : suite(`asvs :: the example app on ${engine}`);

  test('over HTTPS (the app serves TLS) :: every applicable row passes, the timeouts included', async () => {
    const rows = await audited(engine, 'tls', true);
    assert.equal(ids(rows, 'fail'), [], formatTable(rows));
    assert.equal(ids(rows, 'n/a'), NOT_IN_THE_APP, formatTable(rows));
    assert.match(rows.find(r => r.id === '3.3.1')!.evidence, '__Host-sid');
  });

  test('behind a trusted TLS proxy (X-Forwarded-Proto) :: every applicable row passes', async () => {
    const rows = await audited(engine, 'proxy', false);
    assert.equal(ids(rows, 'fail'), [], formatTable(rows));
    assert.equal(ids(rows, 'n/a'), ['7.3.1', '7.3.2', ...NOT_IN_THE_APP], formatTable(rows));
  });

  test('over plain http on localhost :: only the cookie-name rows fail (a browser would drop a Secure cookie there)', async () => {
    const rows = await audited(engine, 'http', false);
    assert.equal(ids(rows, 'fail'), ['3.3.1', '3.3.3'], formatTable(rows));
    assert.match(rows.find(r => r.id === '3.3.1')!.evidence, 'sid (set by');
  });

  test.run();
}
