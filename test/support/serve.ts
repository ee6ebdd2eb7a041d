/** How the HTTP tests serve an app: on a loopback port for the length of one test. */
import type { App } from '../../src/server/app.ts';
import { createApp } from '../../src/create-app.ts';
import type { SettingsInput } from '../../src/config/config.ts';
import { testClient, type TestClient } from '../../src/testing/client.ts';

/** Serves `app` for `run` and closes it afterwards, whatever happens. */
export async function withClient<T>(app: App, run: (client: TestClient) => Promise<T>): Promise<T> {
  const client = await testClient(app);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

/** Builds an app from `settings` (logging off unless given, CSRF off: withoutCsrf), lets `define` add to it, serves it for `run`. */
export function serve(define: (app: App) => void, run: (client: TestClient) => Promise<void>, settings: SettingsInput = {}): Promise<void> {
  const app = createApp(withoutCsrf({ log: 'none', ...settings }));
  define(app);
  return withClient(app, run);
}

/**
 * `settings` with the CSRF check off (the session's `csrf: false`), for a test app whose test is
 * not about CSRF: its POSTs carry no token. A `csrf` the test set itself is kept.
 */
export function withoutCsrf<S extends SettingsInput>(settings: S): S {
  const engine = settings.session ?? 'Memory';
  const block = settings.engines?.session?.[engine] ?? {};
  if ('csrf' in block) return settings;
  return { ...settings, engines: { ...settings.engines, session: { ...settings.engines?.session, [engine]: { csrf: false, ...block } } } };
}
