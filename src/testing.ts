/**
 * `quickstep/testing`: what users need to test their apps and engines.
 * - `testClient(app)`: real HTTP against the app on a loopback port, with a cookie jar.
 * - `engineContract(name, setup)`: the uvu suite every session engine must pass (needs uvu).
 */
export { testClient, TestClient, type RequestOptions, type TestResponse } from './testing/client.ts';
export { engineContract, type ContractSubject, type ContractOptions } from '../test/session/engine.contract.ts';
