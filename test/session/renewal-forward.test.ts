/** The renewal's forward: only the holder of the old id learns the new one from the store. */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { openForward, sealForward } from '../../src/session/renewal-forward.ts';
import { newSessionId } from '../../src/session/session-id.ts';

const test = suite('renewal forward');

test('opens under the old id only; the stored text holds no id; garbage and tampering read as nothing', () => {
  const [oldId, newId] = [newSessionId(), newSessionId()];
  const forward = sealForward(oldId, newId);
  assert.is(openForward(oldId, forward), newId);
  assert.ok(!forward.includes(newId) && !forward.includes(oldId));
  assert.is.not(sealForward(oldId, newId), forward, 'a fresh IV each time');
  assert.is(openForward(newSessionId(), forward), undefined, 'another id cannot open it');
  const bytes = Buffer.from(forward, 'base64url');
  bytes[bytes.length - 1]! ^= 1;
  assert.is(openForward(oldId, bytes.toString('base64url')), undefined, 'tampered');
  for (const junk of ['', 'x', '%%%', 'A'.repeat(200)]) assert.is(openForward(oldId, junk), undefined, junk);
});

test.run();
