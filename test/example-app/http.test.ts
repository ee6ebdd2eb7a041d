/**
 * The example app's HTTP contract (issue 5) over real HTTP on a loopback port, on each session
 * engine, with the app built from the repository's config.yml.
 */
import { dataRoutes } from './data-routes.ts';
import { engineSuite, ENGINES } from './harness.ts';
import { sessionRoutes } from './session-routes.ts';
import { siteFiles } from './site-files.ts';

for (const engine of ENGINES) {
  const test = engineSuite(engine);
  sessionRoutes(test);
  dataRoutes(test);
  siteFiles(test);
  test.run();
}
