/**
 * A TCP proxy on 127.0.0.1 that can partition the network between an app and its Redis, as a
 * switch or a cloud network does: `hold` stops forwarding in both directions and keeps every
 * connection open (packets silently lost: the client only learns from its own timeouts), `drop`
 * resets every connection and refuses new ones (an unreachable host). `heal()` ends either.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type PartitionMode = 'hold' | 'drop';

export interface TcpProxy {
  port: number;
  partition(mode: PartitionMode): void;
  heal(): void;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: PartitionMode | undefined;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer(client => {
    if (mode === 'drop') return void client.resetAndDestroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    // Forwarded only while not held: held data is dropped, as a partition drops packets.
    client.on('data', chunk => void (mode === undefined && upstream.write(chunk)));
    upstream.on('data', chunk => void (mode === undefined && client.write(chunk)));
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    partition(next) {
      mode = next;
      if (next === 'drop') for (const [client, upstream] of pairs) { client.resetAndDestroy(); upstream.destroy(); }
    },
    heal() {
      mode = undefined;
    },
    stop: () => new Promise<void>(resolve => {
      for (const [client, upstream] of pairs) { client.destroy(); upstream.destroy(); }
      server.close(() => resolve());
    }),
  };
}
