/**
 * The Cookie engine: the contract suite with its declared skips, and the seal itself — no edit
 * of a real sealed cookie opens (every byte flipped once, every truncation, another key, another
 * format), none throws, and at most a debug line is logged.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { cookieEngine, CookieEngine } from '../../../../src/session/engines/cookie/cookie.ts';
import { CookieSeal } from '../../../../src/session/engines/cookie/seal.ts';
import { engineContract, uvuTest } from '../../../../src/testing/engine-contract.ts';

const NEW = 'n'.repeat(16) + randomBytes(16).toString('hex');
const OLD = 'o'.repeat(16) + randomBytes(16).toString('hex');

const contract = suite('engine contract :: Cookie');
engineContract(uvuTest(contract), {
  name: 'Cookie',
  setup: () => ({ engine: { sealer: new CookieEngine([NEW]) } }),
  capabilities: { listing: false, merge: false, serverState: false },
});
contract.run();

const seal = suite('Cookie engine :: the seal');

const ID = randomBytes(24).toString('base64url');
const JSON_TEXT = JSON.stringify({ user: 'ann', n: 1, __quickstep: { created: Date.now() } });

/** An engine whose log lines are collected. */
function logged(secrets: string[]): { engine: CookieEngine; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  return { engine: new CookieEngine(secrets, (level, message) => lines.push([level, message])), lines };
}

seal('a sealed session opens with its id, data and expiry; the value is cookie-safe', () => {
  const engine = new CookieEngine([NEW]);
  const before = Date.now();
  const cookie = engine.sealCookie(ID, JSON_TEXT, 60);
  assert.match(cookie, /^v1\.[A-Za-z0-9_-]+$/);
  const opened = engine.openCookie(cookie);
  assert.is(opened?.id, ID);
  assert.equal(opened?.data, JSON.parse(JSON_TEXT));
  assert.ok(opened!.expiresAt >= before + 60_000 && opened!.expiresAt <= Date.now() + 60_000);
  assert.not.match(cookie, /ann/, 'the data is encrypted, not just signed');
  assert.is.not(engine.sealCookie(ID, JSON_TEXT, 60), cookie, 'a fresh IV for every seal');
});

seal('every byte flipped once (in the text and in the sealed bytes) never opens, never throws, logs at debug only', () => {
  const { engine, lines } = logged([NEW]);
  const cookie = engine.sealCookie(ID, JSON_TEXT, 60);
  let tries = 0;
  for (let i = 0; i < cookie.length; i++) {
    for (const bit of [1, 2, 4, 8, 16, 32, 64]) {
      const flipped = cookie.slice(0, i) + String.fromCharCode(cookie.charCodeAt(i) ^ bit) + cookie.slice(i + 1);
      assert.is(engine.openCookie(flipped), undefined, `character ${i} ^ ${bit}`);
      tries++;
    }
  }
  const bytes = Buffer.from(cookie.slice(3), 'base64url');
  for (let i = 0; i < bytes.length; i++) {
    const copy = Buffer.from(bytes);
    copy[i] = copy[i]! ^ 0xff;
    assert.is(engine.openCookie('v1.' + copy.toString('base64url')), undefined, `byte ${i} flipped`);
    tries++;
  }
  assert.ok(lines.length > 0 && lines.length <= tries);
  assert.ok(lines.every(([level]) => level === 'debug'), 'nothing above debug');
});

seal('every truncation, and anything appended, never opens', () => {
  const engine = new CookieEngine([NEW]);
  const cookie = engine.sealCookie(ID, JSON_TEXT, 60);
  for (let length = 0; length < cookie.length; length++) {
    assert.is(engine.openCookie(cookie.slice(0, length)), undefined, `first ${length} characters`);
    assert.is(engine.openCookie(cookie.slice(cookie.length - length)), undefined, `last ${length} characters`);
  }
  for (const tail of ['A', 'AA', '=', '.', '%00', ' ']) assert.is(engine.openCookie(cookie + tail), undefined, `+ ${tail}`);
});

seal('another key, an old key removed from secret_keys, another format, garbage: no session', () => {
  const old = new CookieEngine([OLD]);
  const cookie = old.sealCookie(ID, JSON_TEXT, 60);
  assert.ok(new CookieEngine([NEW, OLD]).openCookie(cookie), 'opens while OLD is in the list');
  assert.is(new CookieEngine([NEW]).openCookie(cookie), undefined, 'OLD removed: gone');
  assert.is(new CookieEngine([OLD + 'x']).openCookie(cookie), undefined, 'a similar secret');
  const foreign = ['', 'v1.', 'v2.' + cookie.slice(3), 'V1.' + cookie.slice(3), cookie.slice(3), randomBytes(24).toString('base64url'),
    'v1.' + randomBytes(200).toString('base64url'), 'v1.!!!!', '\u00ff'.repeat(100), 'v1.' + 'A'.repeat(5000)];
  for (const value of foreign) assert.is(new CookieEngine([OLD]).openCookie(value), undefined, JSON.stringify(value.slice(0, 20)));
});

seal('a seal past its expiry does not open (a replayed old cookie)', async () => {
  const engine = new CookieEngine([NEW]);
  const cookie = engine.sealCookie(ID, JSON_TEXT, 1);
  assert.ok(engine.openCookie(cookie));
  await new Promise(resolve => setTimeout(resolve, 1100));
  assert.is(engine.openCookie(cookie), undefined);
});

seal('opening picks the key by its id: with many old keys, a forged cookie costs one decryption at most', () => {
  const secrets = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(40, 'k'));
  const sealer = new CookieSeal(secrets.slice(5));
  const sealed = sealer.seal('{"a":1}');
  assert.is(new CookieSeal(secrets).open(sealed), '{"a":1}', 'found among 20 keys');
  assert.is(new CookieSeal(secrets.slice(0, 5)).open(sealed), undefined);
});

seal('short or missing secrets are refused when built by hand', () => {
  assert.throws(() => new CookieEngine([]), /at least 32 bytes/);
  assert.throws(() => new CookieEngine(['x'.repeat(31)]), /at least 32 bytes/);
  assert.throws(() => new CookieEngine([NEW, 'short']), /at least 32 bytes/);
});

seal('the engine has no server state: it is a sealer, with no flush, no listing and no retrieve', () => {
  const engine = cookieEngine.create({ secret_key: NEW, secret_keys: undefined, revocation: false }, { sessionDuration: 60, log: () => {} });
  assert.ok('sealer' in engine && !('store' in engine), 'created as a sealer, with no store');
  const methods = new Set(Object.getOwnPropertyNames(CookieEngine.prototype));
  for (const storeMethod of ['retrieve', 'flush', 'destroy', 'sessions']) assert.not.ok(methods.has(storeMethod), `no ${storeMethod}`);
});

seal.run();
