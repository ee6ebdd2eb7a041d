/**
 * The kit against today's example app on Memory (test/example-app/harness.ts builds it as
 * `npm start` does). Which rows pass is the app's business, changing as the defaults do: this
 * test asserts only that the audit runs the description through, gives every requirement a row
 * with evidence, and that what the description leaves out is n/a. The rows are printed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit, formatTable, type AuditOptions } from 'quickstep/asvs';
import { serve, type Served } from '../example-app/harness.ts';

/** The example app described for the audit: its forms carry the token in `_csrf`; /whoami shows the user. */
export const EXAMPLE_APP: AuditOptions = {
  login: { path: '/login', fields: { user: 'asvs-audit' }, csrf: { page: '/' } },
  logout: { path: '/logout', csrf: { page: '/' } },
  loggedIn: { path: '/whoami', pattern: '"user":"asvs-audit"' },
  sessions: { path: '/sessions', endOthers: { path: '/sessions/others-out', csrf: { page: '/sessions' } } },
};

const test = suite<{ served: Served }>('asvs :: the example app on Memory', {} as { served: Served });
test.before(async ctx => {
  ctx.served = await serve('Memory');
});
test.after(async ctx => {
  await ctx.served?.stop();
});

test('every requirement gets a row with evidence; what the description leaves out is n/a', async ctx => {
  const rows = await audit(ctx.served.url, EXAMPLE_APP);
  if (process.env.ASVS_PRINT) console.log(formatTable(rows));
  assert.equal(rows.map(r => r.id), ['3.3.1', '3.3.2', '3.3.3', '3.3.4', '3.3.5', '3.5.1', '3.5.2', '3.5.3', '7.2.1', '7.2.2', '7.2.3', '7.2.4', '7.3.1', '7.3.2', '7.4.1', '7.4.2', '7.4.3', '7.5.2', '14.2.1', '14.3.1', '14.3.2']);
  for (const row of rows) assert.ok(row.evidence.length > 10, `${row.id} has evidence`);
  assert.equal(rows.filter(r => r.outcome === 'n/a').map(r => r.id), ['7.3.1', '7.3.2', '7.4.2', '7.4.3']);
  assert.not.ok(rows.some(r => r.evidence.startsWith('the check could not finish')), formatTable(rows));
});

test.run();
