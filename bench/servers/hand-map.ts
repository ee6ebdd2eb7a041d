/**
 * The "hand-written Map" baseline: node:http, a cookie, and a Map of session objects. This is
 * what an in-memory session costs with no framework at all; Quickstep's Memory engine is held to it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCookie } from 'cookie';
import { announce, sessionPad } from './harness.ts';

interface Data { n?: number; pad?: string }
const PAD = sessionPad();
const sessions = new Map<string, Data>();

function send(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

const server = createServer((req, res) => {
  const id = parseCookie(req.headers.cookie ?? '')['sid'];
  if (req.url === '/hello') return send(res, 'hello');
  if (req.url === '/read') {
    const data = id === undefined ? undefined : sessions.get(id);
    return send(res, String(data?.n ?? 0));
  }
  if (req.url === '/write') {
    let data = id === undefined ? undefined : sessions.get(id);
    if (data === undefined) {
      const sid = randomBytes(18).toString('base64url');
      sessions.set(sid, (data = {}));
      res.setHeader('set-cookie', `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    }
    data.n = (data.n ?? 0) + 1;
    if (PAD !== undefined && data.pad === undefined) data.pad = PAD;
    return send(res, 'ok');
  }
  send(res, 'not found', 404);
});
server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
