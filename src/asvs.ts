/**
 * `quickstep/asvs`: the OWASP ASVS 5.0 session conformance kit. `audit(url, options)` checks
 * every V3/V7/V14 session requirement that HTTP can show against a running app, given its login,
 * logout and logged-in page, and returns one row per requirement (pass, fail or n/a, with the
 * evidence); `asvsSuite(test, options)` registers the same as one test per requirement with any
 * runner's `test` function; `quickstep audit <url> --config audit.json` prints the table.
 */
// The published .d.ts files use Node's types: the directive loads @types/node (a dependency) for
// consumers whose tsconfig has "types": [], as `tsc --init` writes.
/// <reference types="node" preserve="true" />
export { audit } from './asvs/audit.ts';
export { asvsSuite, type AsvsSuiteOptions } from './asvs/suite.ts';
export { formatTable } from './asvs/report.ts';
export type { AuditResult, Outcome } from './asvs/checks.ts';
export type { AuditOptions, CsrfSource, FlowStep } from './asvs/flow.ts';
export { FlowError } from './asvs/flow.ts';
export type { AuditTls } from './asvs/agent.ts';
export type { TestFunction } from './testing/engine-contract.ts';
