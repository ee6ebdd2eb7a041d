/**
 * A TLS-terminating reverse proxy on 127.0.0.1, as nginx or a load balancer sits in front of an
 * app: HTTPS in, plain http to `target`, with `X-Forwarded-Proto: https` and `X-Forwarded-For`
 * (the client's address) set, and whatever the client sent in those headers replaced, as a proxy
 * an app may trust (`trust_proxy: true`) must do.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Certificate } from './certificate.ts';

export interface TlsProxy {
  url: string;
  stop(): Promise<void>;
}

export async function startTlsProxy(target: string, tls: Certificate): Promise<TlsProxy> {
  const upstream = new URL(target);
  const server = createServer(tls, (req, res) => {
    const headers: IncomingHttpHeaders = { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const forwarded = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forwarded);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
