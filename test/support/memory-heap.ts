/**
 * Run as a child process (`node --expose-gc --import tsx memory-heap.ts <count> <kib> <max_bytes>`):
 * writes <count> new sessions of one <kib> KiB value each through the Session and the Memory
 * engine, as a flood of requests would, and prints one JSON line with the heap it retained
 * (heapUsed after a full GC, sampled every 100 writes) and the peak RSS. A child process so that
 * GC can be forced and the figures are not those of the test runner.
 */
import { randomBytes } from 'node:crypto';
import { MemoryEngine } from '../../src/session/engines/memory/memory.ts';
import { Session } from '../../src/session/session.ts';

const [count = 4000, kib = 200, maxBytes = 64 * 2 ** 20] = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const MiB = 2 ** 20;
const engine = new MemoryEngine({ max_sessions: 100_000, max_bytes: maxBytes }, 3600);
const value = 'x'.repeat(kib * 1024);
gc();
const base = process.memoryUsage().heapUsed;
let peakHeap = 0;
let peakRss = 0;
const started = process.cpuUsage();
for (let i = 1; i <= count; i++) {
  const id = randomBytes(24).toString('base64url');
  const session = new Session(id, {}, true);
  session.set('blob', value);
  await engine.flush(id, session.change, 3600);
  if (i % 100 === 0) {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    peakHeap = Math.max(peakHeap, heapUsed - base);
    peakRss = Math.max(peakRss, rss);
  }
}
const cpu = process.cpuUsage(started);
console.log(JSON.stringify({
  count,
  kib,
  sessions: engine.size,
  retainedHeapMiB: Math.round(peakHeap / MiB),
  peakRssMiB: Math.round(peakRss / MiB),
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
}));
await engine.close();
