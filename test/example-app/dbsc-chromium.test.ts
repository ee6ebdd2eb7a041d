/**
 * Device-bound sessions in a real browser: Debian's headless Chromium (156) runs the whole DBSC
 * flow against the example app over HTTPS on 127.0.0.1 — login offers registration, Chromium
 * registers a software key, the bound cookie (3 s here) expires, and loading the device-bound
 * /account page makes Chromium refresh first (the 403 challenge, then its signed proof); a copied
 * session cookie is refused there, and logout ends the binding. Asserted
 * through the CDP events `Network.deviceBoundSessionEventOccurred` and the requests the server saw.
 *
 * Chromium counts only a valid TLS connection, so the test makes a certificate with openssl and
 * names its key in --ignore-certificate-errors-spki-list (--ignore-certificate-errors or plain
 * http://127.0.0.1 make Chromium ignore the registration header silently). Skipped only when
 * /usr/bin/chromium is missing (and never under CI=true).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chromium } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, loadConfig } from 'quickstep';
import { defineRoutes } from '../../example-app/routes.ts';
import { certificate, type Certificate } from '../support/certificate.ts';
import { ROOT } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const FEATURES = '--enable-features=DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false,EnableBoundSessionCredentialsSoftwareKeysForManualTesting';
const BOUND_SECONDS = 3;

interface Seen {
  method: string;
  path: string;
  cookies: string;
  proof: boolean;
  status?: number;
}

interface DbscEvent {
  succeeded: boolean;
  sessionId?: string;
  creationEventDetails?: { fetchResult: string };
  refreshEventDetails?: { refreshResult: string; fetchResult: string };
  challengeEventDetails?: { challengeResult: string };
  at: number;
}

const test = suite('example app :: DBSC in Chromium');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') test('chromium is installed', () => assert.unreachable(`${CHROMIUM} is missing and CI=true forbids skipping`));
  else test.skip(`DBSC in Chromium: skipped, ${CHROMIUM} is not installed`, () => {});
} else {
  test('login registers a key; after the bound cookie expires Chromium refreshes through the challenge and loads /account', async () => {
    const tls = certificate('ec');
    let server: Server | undefined;
    const app = defineRoutes(createApp(loadConfig({ dir: ROOT, environment: 'development', env: { ...process.env, LOG_LEVEL: 'error', SESSION_ENGINE: 'Memory', DBSC_COOKIE_DURATION: String(BOUND_SECONDS) } })));
    const browser = await launch(tls, async handler => {
      server = createServer(tls, handler);
      await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    }, app.handle);
    try {
      const { url, seen } = browser;
      const context = await browser.chromium.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const cdp = await context.newCDPSession(page);
      const events: DbscEvent[] = [];
      cdp.on('Network.deviceBoundSessionEventOccurred' as never, ((event: DbscEvent) => events.push({ ...event, at: Date.now() })) as never);
      await cdp.send('Network.enable');
      await cdp.send('Network.enableDeviceBoundSessions' as never, { enable: true } as never);

      await page.goto(url);
      await page.fill('input[name="user"]', 'ann');
      await Promise.all([page.waitForURL(`${url}/`), page.click('button:has-text("Log in")')]);
      await waitFor(() => events.some(e => e.creationEventDetails !== undefined), 'a DBSC creation event');
      const created = events.find(e => e.creationEventDetails !== undefined)!;
      assert.ok(created.succeeded, `registration succeeded: ${JSON.stringify(created)}`);
      assert.is(created.creationEventDetails!.fetchResult, 'Success');
      const registration = seen.find(r => r.path === '/__quickstep/dbsc/registration');
      assert.ok(registration?.proof && registration.status === 200, 'Chromium posted a proof to the registration endpoint');

      await page.goto(`${url}/sessions`);
      assert.match((await page.locator('li.current').textContent())!, /device-bound/, 'the devices page shows the binding');

      // Let the bound cookie expire, with no request meanwhile, then open the device-bound page.
      await sleep(BOUND_SECONDS * 1000 + 1500);
      const names = (await context.cookies()).map(c => c.name);
      assert.not.ok(names.some(name => name.endsWith('.bound')), `the bound cookie expired: ${names.join(', ')}`);
      const waited = Date.now();
      const response = await page.goto(`${url}/account`);
      assert.is(response!.status(), 200);
      assert.match((await page.locator('#binding').textContent())!, /bound to this device/);
      const refreshed = events.filter(e => e.at >= waited && e.refreshEventDetails?.refreshResult === 'Refreshed');
      assert.ok(refreshed.length > 0, `Chromium refreshed the session: ${JSON.stringify(events.filter(e => e.at >= waited))}`);
      assert.ok(events.some(e => e.at >= waited && e.challengeEventDetails?.challengeResult === 'Success'), 'through the 403 challenge');
      const account = seen.filter(r => r.path === '/account');
      assert.ok(account.length > 0 && account.every(r => /\.bound=/.test(r.cookies)), 'every /account request carried the renewed bound cookie');
      const refreshes = seen.filter(r => r.path === '/__quickstep/dbsc/refresh');
      assert.ok(refreshes.some(r => !r.proof && r.status === 403) && refreshes.some(r => r.proof && r.status === 200), `the refresh went 403, then 200 with a proof: ${JSON.stringify(refreshes)}`);

      // The session cookie copied into a browser without the key: /account is refused, / is not.
      const session = (await context.cookies()).filter(c => !c.name.endsWith('.bound'));
      const thief = await browser.chromium.newContext();
      await thief.addCookies(session);
      const stolen = await thief.newPage();
      assert.is((await stolen.goto(`${url}/account`))!.status(), 403);
      assert.is((await stolen.goto(`${url}/`))!.status(), 200);
      assert.match((await stolen.locator('h1').textContent())!, /Hello, ann/);
      await thief.close();

      // Logout ends the binding: Chromium's next refresh is told {"continue": false}, and the
      // site works on without a session.
      await page.goto(url);
      const before = seen.length;
      await Promise.all([page.waitForURL(`${url}/`), page.click('button:has-text("Log out")')]);
      await page.goto(`${url}/account`);
      assert.ok(await page.locator('input[name="user"]').isVisible(), 'logged out: the login form');
      // Counted from the logout's POST: the 3 s bound cookie may expire again on the way here, and
      // Chromium then refreshes (with a proof, 200) before it sends the logout, which it holds
      // back until the refresh is done.
      const logoutAt = seen.findIndex((r, i) => i >= before && r.method === 'POST' && r.path === '/logout');
      assert.ok(logoutAt >= 0, `the logout was posted: ${JSON.stringify(seen.slice(before))}`);
      const after = seen.slice(logoutAt + 1).filter(r => r.path === '/__quickstep/dbsc/refresh');
      assert.ok(after.length <= 1 && after.every(r => r.status === 200), `at most one refresh after logout, answered {"continue": false}: ${JSON.stringify(after)}`);
      assert.not.ok((await context.cookies()).some(c => c.name.endsWith('.bound')), 'the bound cookie is gone');
      await context.close();
    } finally {
      await browser.chromium.close();
      await new Promise(resolve => server?.close(resolve));
      await app.close();
    }
  });
}

/** Starts the server through `listen` (recording requests), launches Chromium trusting the certificate's key only. */
async function launch(tls: Certificate, listen: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Promise<number>, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const spki = createHash('sha256').update(new X509Certificate(tls.cert).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const seen: Seen[] = [];
  const port = await listen((req, res) => {
    const entry: Seen = { method: req.method!, path: req.url!.split('?')[0]!, cookies: req.headers.cookie ?? '', proof: req.headers['secure-session-response'] !== undefined };
    seen.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    handle(req, res);
  });
  const instance = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', FEATURES, `--ignore-certificate-errors-spki-list=${spki}`],
  });
  return { chromium: instance, url: `https://127.0.0.1:${port}`, seen };
}

async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test.run();
