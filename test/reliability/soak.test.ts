/**
 * The soak's verdict (reliability/soak.ts): the least-squares fit, and the flatness rule telling
 * a slow leak from noise, on made-up series; and its plot is SVG with one panel per series.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fit, verdicts, type Sample, type SoakResult } from '../../reliability/soak.ts';
import { soakSvg } from '../../reliability/soak-plot.ts';

const test = suite('reliability :: soak verdict');

/** 30 minutes sampled every 10 s; `value(t, i)` gives every series of both servers at t seconds. */
function samples(value: (t: number, i: number) => number): Sample[] {
  return Array.from({ length: 181 }, (_, i) => {
    const t = i * 10;
    const v = value(t, i);
    return { t, servers: [0, 1].map(() => ({ rss: v, heapUsed: v, fds: v, handles: v })) };
  });
}

test('fit :: recovers the slope and intercept of a line, with no residual', () => {
  const { slope, intercept, residualSd } = fit([0, 1, 2, 3], [5, 7, 9, 11]);
  assert.ok(Math.abs(slope - 2) < 1e-9 && Math.abs(intercept - 5) < 1e-9 && residualSd < 1e-9);
});

test('a series that only wobbles is flat; one that keeps growing is not', () => {
  const mb = 2 ** 20;
  // 100 MB ± 8 MB of sawtooth: noise, not growth.
  const wobbling = verdicts(samples((_, i) => 100 * mb + (i % 5) * 4 * mb - 8 * mb), 1800);
  assert.ok(wobbling.every(v => v.flat), JSON.stringify(wobbling));
  // 100 MB growing 0.5 MB a minute (15 MB over the run, 15%): a leak, even under the same wobble.
  const leaking = verdicts(samples((t, i) => 100 * mb + (t / 60) * 0.5 * mb + (i % 5) * 4 * mb - 8 * mb), 1800);
  assert.ok(leaking.every(v => !v.flat), JSON.stringify(leaking));
  // One more file descriptor every 3 minutes: 10 over the run on a mean near 30.
  const fds = verdicts(samples(t => 25 + Math.floor(t / 180)), 1800).filter(v => v.metric === 'fds');
  assert.ok(fds.every(v => !v.flat && Math.abs(v.slopePerMinute - 1 / 3) < 0.05), JSON.stringify(fds));
});

test('the plot is one SVG with a panel per series', () => {
  const result = { minutes: 30, restartAtSeconds: 720, samples: samples(() => 42) } as SoakResult;
  const svg = soakSvg(result, 'Soak <test>');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /Soak &lt;test&gt;/);
  for (const label of ['RSS', 'V8 heap used after a full GC', 'open file descriptors', 'active handles and requests']) assert.ok(svg.includes(label), label);
  assert.is(svg.match(/<polyline/g)?.length, 8, 'two servers in each of four panels');
});

test.run();
