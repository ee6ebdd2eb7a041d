/**
 * Sentinel, a hung master that resumes while it is being failed over: found by
 * `npm run reliability` (issue 17), which lost 7 and 13 acknowledged increments in two of four
 * runs when the old master resumed right after the switch, and none when it resumed 1.5 s
 * later. A resumed master is still master until Sentinel demotes it: it executes what was sent
 * to it in the last second (within command_timeout) and the writes that keep coming until the
 * apps leave it on +switch-master, answers them 200, and the resync after its demotion drops
 * them. This test resumes it as soon as the failover starts, which widens that window so that
 * it fails every time (three of three; 4 to 38 increments lost per client); the test in
 * redis-sentinel.test.ts waits 200 ms after the switch and runs its apps in the test's own
 * process, whose event loop takes the +switch-master before the test can resume the master:
 * both hide the race. Here the apps are processes of their own, as in production.
 *
 * KNOWN DEFECT, skipped until fixed. Suspected place: the Sentinel path of
 * src/session/engines/redis-options.ts / redis.ts (failoverDetector alone cannot close this
 * window). A fix that holds: acknowledge a write only once a replica has it (WAIT 1
 * <command_timeout> after the flush script; a master cut off from its replica then answers 503,
 * outcome unknown, instead of 200). Unskip (`failover(` for `failover.skip(`) with the fix.
 */
import * as assert from 'uvu/assert';
import { startAppServer, type AppServer } from '../../../reliability/processes.ts';
import { redisCli, redisSuite, replicationInfo, startFailoverGroup, waitUntil } from '../../support/redis-server.ts';
import { sleep } from './redis-helpers.ts';

const failover = redisSuite('Redis engine :: sentinel, the hung master resumes at the switch');

failover.skip('failover :: the hung master resumes while Sentinel fails it over: no acknowledged write is lost', async () => {
  const group = await startFailoverGroup('resume');
  const options = { sentinels: [`127.0.0.1:${group.sentinel.port}`], name: 'resume', command_timeout: 1000 };
  const env = { SESSION_ENGINE: 'Redis', RELIABILITY_REDIS_OPTIONS: JSON.stringify(options) };
  const servers: AppServer[] = [];
  try {
    servers.push(await startAppServer(env), await startAppServer(env));
    let running = true;
    // Each client its own session, counting the increments (GET /counter) it got a 200 for.
    const client = async (i: number) => {
      let cookie = '', acknowledged = 0, failed = 0;
      while (running) {
        const res = await fetch(servers[i % 2]!.url + '/counter', { headers: cookie ? { cookie } : {} }).catch(() => undefined);
        if (res?.status === 200) {
          cookie ||= res.headers.get('set-cookie')!.split(';')[0]!;
          acknowledged++;
        } else failed++;
        await res?.arrayBuffer();
        await sleep(5);
      }
      return { cookie, acknowledged, failed };
    };
    const clients = Array.from({ length: 20 }, (_, i) => client(i));
    try {
      await sleep(500);
      group.master.pause();
      // Resumed while Sentinel is failing it over: from now until the apps leave it on
      // +switch-master, it answers writes as master, and the resync after its demotion drops them.
      await waitUntil('Sentinel starts the failover', async () => (await redisCli(group.sentinel.port, 'SENTINEL', 'MASTER', 'resume')).includes('failover_in_progress'), undefined, 15_000);
      group.master.resume();
      await waitUntil('Sentinel promotes the replica', async () => (await group.masterPort()) === group.replica.port, undefined, 15_000);
      await waitUntil('Sentinel demotes the old master', async () => {
        const info = await replicationInfo(group.master.port);
        return info.get('role') === 'slave' && info.get('master_link_status') === 'up';
      }, undefined, 20_000);
      await sleep(500);
    } finally {
      running = false;
    }
    const lost: string[] = [];
    let failures = 0;
    for (const { cookie, acknowledged, failed } of await Promise.all(clients)) {
      failures += failed;
      // This read increments too: it answers one more than what was stored.
      const { count } = await (await fetch(servers[0]!.url + '/counter', { headers: { cookie } })).json() as { count: number };
      if (count - 1 < acknowledged) lost.push(`${acknowledged} acknowledged, ${count - 1} stored`);
    }
    assert.equal(lost, [], 'acknowledged increments were lost');
    assert.ok(failures > 0, 'the test saw writes fail during the freeze');
  } finally {
    await Promise.all(servers.map(server => server.stop()));
    await group.stop();
  }
});

failover.run();
