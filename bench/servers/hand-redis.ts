/**
 * The "hand-written Redis" baseline: node:http + ioredis, a session stored as JSON under
 * `sess:<id>`. Read = 1 GET; write = GET + SET EX (2 commands), the least a read-modify-write
 * session can do. Auto-pipelining is on because that is how a careful hand-written server uses
 * ioredis (DESIGN §8: without it Redis works ~8x harder), so the baseline is not a straw man.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCookie } from 'cookie';
import { Redis } from 'ioredis';
import { announce, redisPort, sessionPad, SESSION_TTL } from './harness.ts';

interface Data { n?: number; pad?: string }
const PAD = sessionPad();
const redis = new Redis({ host: '127.0.0.1', port: redisPort(), enableAutoPipelining: true });

function send(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

async function load(id: string | undefined): Promise<Data | undefined> {
  const raw = id === undefined ? null : await redis.get(`sess:${id}`);
  return raw === null ? undefined : (JSON.parse(raw) as Data);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let id = parseCookie(req.headers.cookie ?? '')['sid'];
  if (req.url === '/hello') return send(res, 'hello');
  if (req.url === '/read') return send(res, String((await load(id))?.n ?? 0));
  if (req.url === '/write') {
    let data = await load(id);
    if (data === undefined || id === undefined) {
      id = randomBytes(18).toString('base64url');
      data = {};
      res.setHeader('set-cookie', `sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
    }
    data.n = (data.n ?? 0) + 1;
    if (PAD !== undefined && data.pad === undefined) data.pad = PAD;
    await redis.set(`sess:${id}`, JSON.stringify(data), 'EX', SESSION_TTL);
    return send(res, 'ok');
  }
  send(res, 'not found', 404);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    send(res, 'error', 500);
  });
});
server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
