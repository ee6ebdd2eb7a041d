/** The pooled CSPRNG tokens behind session ids and CSRF tokens (random-token.ts). */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomToken } from '../../src/session/random-token.ts';

const test = suite('random tokens');

test('across many refills of the 4 KiB pool: every token new, of the right length and alphabet', () => {
  const seen = new Set<string>();
  // 24-byte and 32-byte draws interleaved: 10,000 tokens take the pool through ~70 refills,
  // with draws that do not divide 4096 evenly.
  for (let i = 0; i < 10_000; i++) {
    const bytes = i % 3 === 0 ? 32 : 24;
    const token = randomToken(bytes);
    assert.match(token, bytes === 32 ? /^[A-Za-z0-9_-]{43}$/ : /^[A-Za-z0-9_-]{32}$/);
    assert.not.ok(seen.has(token), `token ${i} repeats an earlier one: pool bytes handed out twice`);
    seen.add(token);
  }
});

test('no byte is handed out twice: consecutive tokens do not overlap', () => {
  // Overlapping draws would show as one token's tail starting the next one's head.
  for (let i = 0; i < 2_000; i++) {
    const a = Buffer.from(randomToken(24), 'base64url');
    const b = Buffer.from(randomToken(24), 'base64url');
    assert.not.ok(a.subarray(12).equals(b.subarray(0, 12)), 'the next token reuses bytes of the last');
  }
});

test.run();
