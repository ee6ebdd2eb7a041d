/**
 * guard (src/session/backend/backend.ts): every engine call goes through it, so a store failure is
 * a SessionStoreError (503) with its cause, an engine's HttpError stays as it is, and a `then`
 * given with the call sees the value in the same step without turning its own errors into store
 * failures.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { guard } from '../../src/session/backend/backend.ts';
import { HttpError, SessionStoreError } from '../../src/base/errors.ts';

const outcome = (pending: Promise<unknown>): Promise<unknown> => pending.then(value => ({ value }), error => ({ error }));

test('a rejected or throwing call :: SessionStoreError naming the action, the cause kept; with or without then', async () => {
  const cause = new Error('ECONNREFUSED');
  let thenRan = false;
  for (const pending of [
    guard('read', () => Promise.reject(cause)),
    guard('read', () => {
      throw cause;
    }),
    guard('read', () => Promise.reject(cause), () => {
      thenRan = true;
    }),
  ]) {
    const { error } = (await outcome(pending)) as { error: unknown };
    assert.instance(error, SessionStoreError);
    assert.match((error as Error).message, /could not read the session/);
    assert.is((error as Error).cause, cause);
  }
  assert.is(thenRan, false, 'then is not called for a failed call');
});

test("an engine's HttpError (a 413 for a session too large) :: stays as it is", async () => {
  const tooLarge = new HttpError(413, 'too large');
  assert.equal(await outcome(guard('save', () => Promise.reject(tooLarge), () => 'unused')), { error: tooLarge });
});

test('then :: gets the value, its result is the outcome, and what it throws is not a store failure', async () => {
  assert.equal(await outcome(guard('read', () => Promise.resolve(2), value => value * 21)), { value: 42 });
  assert.equal(await outcome(guard('read', () => Promise.resolve(2), value => Promise.resolve(value + 1))), { value: 3 });
  const bad = new TypeError('not a session');
  assert.equal(await outcome(guard('read', () => Promise.resolve(2), () => {
    throw bad;
  })), { error: bad });
});

test.run();
