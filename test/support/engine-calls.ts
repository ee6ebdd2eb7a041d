/**
 * Counts the calls an app makes to its real session engine (the engine still does the work), so
 * tests can assert "a read-only request never flushes" or "a malformed id never reaches retrieve".
 */
import type { App } from '../../src/app.ts';

export type EngineCalls = Record<'retrieve' | 'flush' | 'destroy' | 'changeId', string[]>;

export function countEngineCalls(app: App): EngineCalls {
  const engine = app.sessions!.engine as unknown as Record<string, unknown>;
  const calls: EngineCalls = { retrieve: [], flush: [], destroy: [], changeId: [] };
  for (const name of Object.keys(calls) as (keyof EngineCalls)[]) {
    const original = engine[name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!original) continue;
    engine[name] = (...args: unknown[]) => {
      calls[name].push(String(args[0]));
      return original.apply(engine, args);
    };
  }
  return calls;
}
