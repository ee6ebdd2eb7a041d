/**
 * The example app as a process of its own, for `npm run reliability`: what is measured (latency,
 * RSS) is then the server's, not the load generator's. Built from config.yml as `npm start`
 * builds it (SESSION_ENGINE, REDIS_URL); RELIABILITY_REDIS_OPTIONS, a JSON object of
 * `engines.session.Redis` options ({"sentinels": [...], "name": ...} or {"cluster": [...]}),
 * replaces the Redis block, checked as config.yml's would be. Runs in the production
 * environment; listens on a free loopback port, prints `listening <url>`, and on SIGTERM lets
 * requests finish and exits 0. RELIABILITY_LOG_LEVEL sets the log level (default warning);
 * RELIABILITY_SAMPLE=1 with an IPC channel answers 'sample' with its V8 heap used (after a full
 * GC) and active resources (the soak).
 */
import { createApp, loadConfig } from 'quickstep';
import { defineRoutes } from '../example-app/routes.ts';
import { readSessionSettings } from '../src/session/settings.ts';
import { ROOT } from '../test/example-app/harness.ts';

const env = { ...process.env, LOG_LEVEL: process.env.RELIABILITY_LOG_LEVEL ?? 'warning' };
// As deployed: production keeps compiled templates (development reads and compiles each on
// every render, a cost no deployed app pays) and shows no error details.
const settings = loadConfig({ dir: ROOT, environment: 'production', env });
const redisOptions = process.env.RELIABILITY_REDIS_OPTIONS;
if (redisOptions) {
  // Checked settings are taken as they are by createApp, so the block is checked here, with
  // the same rules (and a ConfigError naming the variable) as a Redis block in config.yml;
  // dbsc as config.yml has it (the example app has a deviceBound route).
  const where = { file: 'RELIABILITY_REDIS_OPTIONS', enginePath: 'session', optionsPath: 'engines.session.Redis' };
  settings.session = readSessionSettings('Redis', { session_duration: 3600, dbsc: true, ...JSON.parse(redisOptions) }, where);
}
const app = defineRoutes(createApp(settings));
const { url } = await app.listen(0, '127.0.0.1');
process.stdout.write(`listening ${url}\n`);
// Only when the parent asks for it (the soak, over the IPC channel it opened): the server's own
// figures, which /proc cannot give. No HTTP endpoint: nothing is added to what the app serves.
// The heap is measured after a full GC (the parent starts this process with --expose-gc): what
// is still reachable, which is what a leak grows, not where the collector happens to be.
if (process.env.RELIABILITY_SAMPLE === '1' && process.send) {
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', message => {
    if (message !== 'sample') return;
    gc?.();
    process.send!({ heapUsed: process.memoryUsage().heapUsed, handles: process.getActiveResourcesInfo().length });
  });
}
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
