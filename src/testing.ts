/**
 * `quickstep/testing`: what users need to test their apps, with any test runner.
 * - `testClient(app)`: real HTTP against the app on a loopback port, with a cookie jar.
 * The engine contract suite for engine authors is `quickstep/engine-contract`.
 */
export { testClient, TestClient, type RequestOptions, type TestResponse } from './testing/client.ts';
