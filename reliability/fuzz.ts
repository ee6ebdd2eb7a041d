/**
 * The HTTP fuzzer: hostile requests on raw TCP against a running example app, from a seeded
 * generator (a failure can be replayed). Counts what must stay 0: crashes (the app stops
 * answering /health), 5xx (the store is up, so 503 counts too), leaked stacks or paths, reflected
 * XSS markers, and adopted ids (a client-chosen id that comes back in Set-Cookie).
 * Used by test/fuzz (1,000 per engine in `npm test`) and by `npm run reliability` (12,000+).
 */
import { connect } from 'node:net';

export interface FuzzResult {
  requests: number;
  answered: number;
  closedWithoutAnswer: number;
  crashes: number;
  serverErrors: number;
  leaks: number;
  xss: number;
  adoptedIds: number;
  statuses: Record<string, number>;
  examples: string[];
}

const MARK = '<script>qsx</script>';
const ID = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'; // well-formed, never issued
const LEAK = /\n\s+at |node_modules|\/work\/|\/src\/[a-z-]+\.ts|Error: |TypeError/;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s + 0x6d2b79f5) >>> 0), ((Math.imul(s ^ (s >>> 15), s | 1) ^ (s >>> 7)) >>> 0) / 2 ** 32);
}

/** One hostile request (bytes) from the generator. */
export function hostileRequest(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const junk = (n: number) => Array.from({ length: Math.floor(r() * n) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
  const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'FOO', 'G\u0000T', 'get', 'CONNECT']);
  const target = pick([
    '/', '/counter', '/whoami', '/prefs', '/prefs/theme', '/prefs/%zz', '/prefs/a%2Fb', '/login', '/logout', '/health',
    `/?q=${encodeURIComponent(MARK)}`, `/${encodeURIComponent(MARK)}`, '/%', '/%00', '/../../etc/passwd', '/css/%2e%2e/%2e%2e/config.yml',
    '*', 'http://evil.example/', '/' + 'a'.repeat(Math.floor(r() * 10_000)), `/prefs/${MARK}`, '/\r\nX-Injected: 1', '/?a=%E0%A4%A',
  ]);
  const cookie = pick([
    `sid=${ID}`, 'sid=../../etc', 'sid=' + 'A'.repeat(33), 'sid="x"; sid=y',
    'sid=%00%ff', `sid=${junk(40)}`, 'a'.repeat(9000), '=;=;;', `sid=${MARK}`, '',
  ]);
  const bodies = [
    '', 'user=ann', `user=${encodeURIComponent(MARK)}`, 'user=%zz', '{"user":"ann"}', `{"user":${JSON.stringify(MARK)}}`, '[' .repeat(5000),
    '{"__proto__":{"x":1}}', '1e400', `{"value":${JSON.stringify(MARK)}}`, junk(300), 'x'.repeat(Math.floor(r() * 3000)),
  ];
  const body = pick(bodies);
  const type = pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', '']);
  const framing = pick(['length', 'length', 'length', 'length', 'wrong-length', 'chunked', 'bad-chunked', 'both', 'none']);
  const headers = [`Host: ${pick(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '', 'a b', MARK])}`];
  if (cookie) headers.push(`Cookie: ${cookie}`);
  if (type) headers.push(`Content-Type: ${type}`);
  if (r() < 0.2) headers.push(`Accept: ${pick(['application/json', 'text/html', '*/*', junk(20)])}`);
  if (r() < 0.1) headers.push(`X-${junk(5)}: ${junk(20)}`);
  if (r() < 0.05) headers.push('X-Big: ' + 'b'.repeat(20_000));
  if (r() < 0.05) headers.push('Bad Header: 1');
  headers.push('Connection: close');
  let payload = body;
  if (framing === 'length') headers.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  else if (framing === 'wrong-length') headers.push(`Content-Length: ${pick(['-1', 'abc', '99999999999', String(body.length + 10), '1, 2'])}`);
  else if (framing === 'chunked') { headers.push('Transfer-Encoding: chunked'); payload = body ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : '0\r\n\r\n'; }
  else if (framing === 'bad-chunked') { headers.push('Transfer-Encoding: chunked'); payload = `zz\r\n${body}\r\n`; }
  else if (framing === 'both') { headers.push('Transfer-Encoding: chunked', `Content-Length: ${body.length}`); payload = `0\r\n\r\n`; }
  const version = pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 junk']);
  return `${method} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${payload}`;
}

function send(port: number, text: string, waitMs: number): Promise<string> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', chunk => (received += chunk.toString('latin1')));
    socket.on('close', () => (clearTimeout(timer), resolve(received)));
    socket.on('error', () => {});
    socket.write(Buffer.from(text, 'latin1'));
  });
}

async function healthy(port: number): Promise<boolean> {
  return /^HTTP\/1\.1 200/.test(await send(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 3000));
}

/** Runs `count` hostile requests, `concurrency` at a time, within `timeLimitMs`. */
export async function fuzz(port: number, options: { count: number; seed?: number; concurrency?: number; timeLimitMs?: number }): Promise<FuzzResult> {
  const r = rng(options.seed ?? 17);
  const result: FuzzResult = { requests: 0, answered: 0, closedWithoutAnswer: 0, crashes: 0, serverErrors: 0, leaks: 0, xss: 0, adoptedIds: 0, statuses: {}, examples: [] };
  const deadline = Date.now() + (options.timeLimitMs ?? 600_000);
  const note = (what: string, request: string, response: string) => {
    if (result.examples.length < 10) result.examples.push(`${what}: ${JSON.stringify(request.slice(0, 200))} -> ${JSON.stringify(response.slice(0, 300))}`);
  };
  let next = 0;
  const worker = async () => {
    while (next < options.count && Date.now() < deadline) {
      next++;
      const request = hostileRequest(r);
      const response = await send(port, request, 1500);
      result.requests++;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(response)?.[1] ?? 0);
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status === 0) { result.closedWithoutAnswer++; continue; }
      result.answered++;
      if (status >= 500) { result.serverErrors++; note('5xx', request, response); }
      if (LEAK.test(response)) { result.leaks++; note('leak', request, response); }
      if (response.includes(MARK) || /\r\nX-Injected/i.test(response)) { result.xss++; note('xss/injection', request, response); }
      if (response.includes(`sid=${ID}`)) { result.adoptedIds++; note('adopted id', request, response); }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  if (!(await healthy(port))) result.crashes++;
  return result;
}
