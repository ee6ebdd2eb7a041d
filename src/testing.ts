/**
 * `quickstep/testing`: what users need to test their apps, with any test runner (or none).
 * - `testClient(app)`: real HTTP against the app on a loopback port, with a cookie jar.
 * The session engine contract suite is `quickstep/engine-contract`.
 */
// The published .d.ts files use Node's types (node:http, Buffer): the directive loads @types/node
// (a dependency) for consumers whose tsconfig has "types": [], as `tsc --init` writes.
/// <reference types="node" preserve="true" />
export { testClient, TestClient, type RequestOptions, type TestResponse } from './testing/client.ts';
