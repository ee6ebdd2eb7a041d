/** Bare node:http hello: the ceiling that every "untouched route" scenario is compared with. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce } from './harness.ts';

const server = createServer((_req, res) => {
  // Same header a framework sends, so the ceiling is not flattered by a smaller response.
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('hello');
});
server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
