/**
 * `asvsSuite(test, options)`: the audit as tests of any runner, as the engine contract suite is
 * (src/testing/engine-contract.ts): one test per requirement, named `ASVS <id> (L<level>) <title>`,
 * failing with the evidence on `fail`, skipped with the reason on `n/a`. With node:test:
 * ```ts
 * import { test, before, after } from 'node:test';
 * import { asvsSuite } from 'quickstep/asvs';
 * asvsSuite(test, { target: () => url, login: ..., logout: ..., loggedIn: ... });
 * ```
 * The audit runs once, when the first test runs (so `target` may be a function giving the URL
 * of a server a `before` hook started); every test reads its row.
 */
import type { TestFunction } from '../testing/engine-contract.ts';
import { audit } from './audit.ts';
import { CHECKS, type AuditResult } from './checks.ts';
import type { AuditOptions } from './flow.ts';

export interface AsvsSuiteOptions extends AuditOptions {
  /** The app's base URL, or a function giving it once the app is running. */
  target: string | URL | (() => string | URL | Promise<string | URL>);
}

export function asvsSuite(test: TestFunction, options: AsvsSuiteOptions): void {
  let results: Promise<AuditResult[]> | undefined;
  const run = () => (results ??= (async () => audit(typeof options.target === 'function' ? await options.target() : options.target, options))());
  // A row is n/a from the options alone (checks.ts `needs`), so it is skipped with its reason at
  // registration, as a runner wants; every other row is decided by the audit.
  for (const check of CHECKS) {
    const skip = check.needs?.(options) ?? false;
    test(`ASVS ${check.id} (L${check.level}) ${check.title}`, { skip }, async () => {
      const row = (await run()).find(r => r.id === check.id)!;
      if (row.outcome === 'fail') throw new Error(`ASVS ${row.id} fails: ${row.evidence}`);
    });
  }
}
