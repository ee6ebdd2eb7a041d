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

/** Builds an app from `settings` (logging off unless given), lets `define` add to it, serves it for `run`. */
export function serve(define: (app: App) => void, run: (client: TestClient) => Promise<void>, settings: SettingsInput = {}): Promise<void> {
  const app = createApp({ log: 'none', ...settings });
  define(app);
  return withClient(app, run);
}
