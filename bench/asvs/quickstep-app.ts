/**
 * Quickstep's column: the example app as `npm start` builds it from config.yml, on the Memory
 * engine, serving HTTPS itself (`listen` with `tls`), started exactly as its own ASVS test starts
 * it (test/example-app/harness.ts `serve(engine, { over: 'tls' })`), with the idle timeout and
 * absolute lifetime set short through SESSION_DURATION and ABSOLUTE_DURATION.
 */
import { EXAMPLE_APP, serve } from '../../test/example-app/harness.ts';
import { ABSOLUTE_SECONDS, IDLE_SECONDS, type AuditedApp, type Running } from './audited-app.ts';

export const QUICKSTEP: AuditedApp = {
  name: 'Quickstep',
  source: 'example-app/, started by bench/asvs/quickstep-app.ts',
  packages: [],
  choices: [
    'the example app (example-app/, config.yml) unchanged, on the Memory engine, serving HTTPS itself: its defaults (`__Host-` cookie, CSRF, no-store, Clear-Site-Data, fetch metadata) are what a new app gets',
    `\`SESSION_DURATION=${IDLE_SECONDS}\` (idle) and \`ABSOLUTE_DURATION=${ABSOLUTE_SECONDS}\` (absolute lifetime), read by its config.yml; it has a sessions page (7.5.2)`,
  ],
  description: { ...EXAMPLE_APP, idleTimeout: IDLE_SECONDS, absoluteTimeout: ABSOLUTE_SECONDS },
  notApplicable: {
    '7.4.2': 'the example app has no accounts to disable (any user name logs in)',
    '7.4.3': 'the example app has no credentials to change',
  },
  async start(): Promise<Running> {
    const served = await serve('Memory', { over: 'tls', env: { SESSION_DURATION: String(IDLE_SECONDS), ABSOLUTE_DURATION: String(ABSOLUTE_SECONDS) } });
    return { url: served.url, ca: served.ca!, stop: () => served.stop() };
  },
};
