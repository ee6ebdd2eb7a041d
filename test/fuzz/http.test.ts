/** The short CI fuzz (issue 17): 1,000 hostile requests per engine against the example app. */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { serve, ENGINES } from '../example-app/harness.ts';
import { redisAvailable } from '../support/redis-server.ts';
import { fuzz } from '../../reliability/fuzz.ts';

for (const engine of ENGINES) {
  const test = suite(`fuzz :: ${engine}`);
  const run = engine === 'Redis' && !redisAvailable() && process.env.CI !== 'true' ? test.skip : test;
  run('1,000 hostile requests: no crash, no 5xx, no leak, no XSS, no adopted id', async () => {
    const served = await serve(engine);
    try {
      const port = Number(new URL(served.url).port);
      const result = await fuzz(port, { count: 1000, seed: engine === 'Memory' ? 1 : 2, timeLimitMs: 60_000 });
      const bad = { crashes: result.crashes, serverErrors: result.serverErrors, leaks: result.leaks, xss: result.xss, adoptedIds: result.adoptedIds };
      assert.equal(bad, { crashes: 0, serverErrors: 0, leaks: 0, xss: 0, adoptedIds: 0 }, result.examples.join('\n'));
      assert.is(result.requests, 1000);
    } finally {
      await served.stop();
    }
  });
  test.run();
}
