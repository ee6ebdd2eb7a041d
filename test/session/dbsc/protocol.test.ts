/**
 * The DBSC protocol pieces on their own (session/dbsc/): challenges and bound cookies derived
 * from a binding's secret, proof verification, and the structured-field headers read quoted or
 * bare. The HTTP flow is in test/request/dbsc/device-binding.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { boundCookieValue, checkChallenge, issueChallenge, newBinding, readBinding, validBoundCookie, CHALLENGE_LIFETIME_MS } from '../../../src/session/dbsc/binding.ts';
import { challengeHeader, registrationHeader, skippedRefreshes, stringField } from '../../../src/session/dbsc/headers.ts';
import { jwkThumbprint, ProofError, verifyProof, type VerifiedProof } from '../../../src/session/dbsc/proof.ts';
import { b64, DbscKey } from '../../support/dbsc-client.ts';

const test = suite('dbsc protocol');

test('a challenge is accepted once, within its lifetime, and only by its own binding', () => {
  const binding = newBinding();
  const now = Date.now();
  const challenge = issueChallenge(binding, now);
  const issued = checkChallenge(binding, challenge, now + 10);
  assert.is(issued, now);
  assert.is(checkChallenge({ ...binding, used: now }, challenge, now + 10), 'used');
  assert.is(checkChallenge(binding, challenge, now + CHALLENGE_LIFETIME_MS + 1), 'stale');
  assert.is(checkChallenge(binding, challenge, now - 60_000), 'stale', 'issued far in the future');
  assert.is(checkChallenge(newBinding(), challenge, now), 'forged');
  assert.is(checkChallenge(binding, challenge.slice(0, -1) + (challenge.endsWith('A') ? 'B' : 'A'), now), 'forged');
  assert.is(checkChallenge(binding, 'x', now), 'forged');
  // An older challenge than the last one used is refused even while fresh.
  const older = issueChallenge(binding, now - 5);
  assert.is(checkChallenge({ ...binding, used: now }, older, now), 'used');
});

test('a bound cookie is valid for its binding until it expires', () => {
  const binding = newBinding();
  const now = Date.now();
  const value = boundCookieValue(binding, now + 10_000);
  assert.ok(validBoundCookie(binding, value, now));
  assert.not.ok(validBoundCookie(binding, value, now + 11_000));
  assert.not.ok(validBoundCookie(newBinding(), value, now));
  assert.not.ok(validBoundCookie(binding, undefined, now));
  const [expiry, mac] = value.split('.') as [string, string];
  const later = (parseInt(expiry, 36) + 3600).toString(36);
  assert.not.ok(validBoundCookie(binding, `${later}.${mac}`, now), 'the expiry is under the MAC');
});

test('a stored binding is read back; a malformed one is none', () => {
  const binding = { ...newBinding(), alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }, thumbprint: 't', boundAt: 1 };
  assert.equal(readBinding(JSON.parse(JSON.stringify(binding))), binding);
  assert.is(readBinding(null), undefined);
  assert.is(readBinding({ secret: 1 }), undefined);
});

test('proofs: ES256 and RS256 verify; none, wrong typ, DER signatures, small RSA keys, private jwks are refused', () => {
  const es = new DbscKey('ES256');
  const rs = new DbscKey('RS256');
  const ok = verifyProof(es.proof('c1', { withKey: true }), ['ES256', 'RS256']) as VerifiedProof;
  assert.is(ok.jti, 'c1');
  assert.is(ok.alg, 'ES256');
  assert.is(verifyProof(es.proof('c2'), ['ES256'], ok).jti, 'c2', 'refresh: the stored key');
  const rsOk = verifyProof(rs.proof('c3', { withKey: true, payload: { authorization: 'a' } }), ['ES256', 'RS256']);
  assert.is(rsOk.authorization, 'a');
  assert.is(jwkThumbprint(ok.jwk).length, 43);
  const refuse = (token: string, why: RegExp, key?: VerifiedProof) => assert.throws(() => verifyProof(token, ['ES256', 'RS256'], key), (e: unknown) => e instanceof ProofError && why.test(e.message));
  refuse(`${b64({ alg: 'none', typ: 'dbsc+jwt' })}.${b64({ jti: 'c' })}.`, /not a signed JWT/);
  refuse(`${b64({ alg: 'none', typ: 'dbsc+jwt' })}.${b64({ jti: 'c' })}.AAAA`, /alg "none" is not accepted/);
  refuse(es.proof('c', { withKey: true, header: { typ: 'JWT' } }), /typ/);
  refuse(es.proof('c'), /carries its key/);
  refuse(new DbscKey('ES256').proof('c'), /not by the session's key/, ok);
  refuse(rs.proof('c'), /not the session's/, ok);
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const smallKey = Object.assign(Object.create(DbscKey.prototype), { alg: 'RS256', privateKey: small.privateKey, publicKey: small.publicKey }) as DbscKey;
  refuse(smallKey.proof('c', { withKey: true }), /2048/);
  const [h, p] = es.proof('c', { withKey: true }).split('.');
  refuse(`${h}.${p}.${Buffer.alloc(72).toString('base64url')}`, /64 bytes/);
  refuse(es.proof('c', { withKey: true, header: { jwk: { ...es.privateKey.export({ format: 'jwk' }) } } }), /private key/);
  refuse('a.b', /three base64url parts/);
  refuse('x'.repeat(9000), /too long/);
});

test('headers: strings quoted or bare; Secure-Session-Skipped entries; what the server writes', () => {
  assert.is(stringField('"abc.def"'), 'abc.def');
  assert.is(stringField('abc.def'), 'abc.def');
  assert.is(stringField('"a\\"b";x=1'), 'a"b');
  assert.is(stringField(' sid1 ;p=1'), 'sid1');
  assert.is(stringField('"unterminated'), undefined);
  assert.is(stringField('""'), undefined);
  assert.is(stringField(undefined), undefined);
  assert.is(stringField('a b'), undefined);
  assert.equal(skippedRefreshes('unreachable;session_identifier="123", quota_exceeded;session_identifier="456"'), [
    { reason: 'unreachable', sessionId: '123' },
    { reason: 'quota_exceeded', sessionId: '456' },
  ]);
  assert.equal(skippedRefreshes('server_error'), [{ reason: 'server_error', sessionId: undefined }]);
  assert.equal(skippedRefreshes('"bad"'), []);
  assert.is(registrationHeader(['ES256', 'RS256'], '/reg', 'c'), '(ES256 RS256);path="/reg";challenge="c"');
  assert.is(challengeHeader('c', 'id'), '"c";id="id"');
});

test.run();
