/**
 * Measurements made in a child process of their own (run by bench/run.ts on each runtime with
 * `--expose-gc`), printed as one JSON line:
 *
 *   probe.ts memory quickstep N   bytes per stored session in Quickstep's Memory engine
 *   probe.ts memory map N         the same for a hand-written Map of session objects
 *   probe.ts json BYTES           what JSON.parse and JSON.stringify of a BYTES-long session cost
 *
 * Memory: heapUsed and RSS after a full GC, before and after storing N one-key sessions
 * (`{"n":1}`, 32-char ids) the way the bench servers store them; the difference / N. The id
 * strings are made inside the measured span: a stored session's id is part of what it costs.
 */
import { randomBytes } from 'node:crypto';
import { MemoryEngine, type SessionChange } from 'quickstep/engine';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

function used(): { heap: number; rss: number } {
  gc!(); gc!();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

async function memory(kind: string, count: number): Promise<object> {
  const id = (): string => randomBytes(24).toString('base64url');
  let keep: { size: number };
  const before = used();
  if (kind === 'quickstep') {
    const engine = new MemoryEngine({ max_sessions: count + 1 }, 86_400);
    const change: SessionChange = { isNew: true, cleared: false, set: new Map([['n', '1']]), deleted: new Set(), incremented: new Map(), pushed: new Map() };
    for (let i = 0; i < count; i++) await engine.flush(id(), change, 86_400);
    keep = engine;
  } else {
    const map = new Map<string, { n: number }>();
    for (let i = 0; i < count; i++) map.set(id(), { n: 1 });
    keep = map;
  }
  const after = used();
  if (keep.size !== count) throw new Error(`stored ${keep.size} of ${count}`);
  return { kind, count, heapPerSession: (after.heap - before.heap) / count, rssPerSession: (after.rss - before.rss) / count };
}

function json(bytes: number): object {
  const session = { n: 1, pad: 'x'.repeat(Math.max(0, bytes - '{"n":1,"pad":""}'.length)) };
  const text = JSON.stringify(session);
  const time = (work: () => void): number => {
    for (let i = 0; i < 50; i++) work();
    const runs = Math.max(20, Math.round(20_000_000 / bytes));
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) work();
    return Number(process.hrtime.bigint() - start) / 1000 / runs;
  };
  let sink = 0;
  const parse = time(() => { sink += (JSON.parse(text) as { n: number }).n; });
  const stringify = time(() => { sink += JSON.stringify(session).length; });
  return { bytes: text.length, parseMicros: parse, stringifyMicros: stringify, sink: sink > 0 };
}

const [mode, kind = '', count = '0'] = process.argv.slice(2);
const result = mode === 'json' ? json(Number(kind)) : await memory(kind, Number(count));
process.stdout.write(`${JSON.stringify(result)}\n`);
