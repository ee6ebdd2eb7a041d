/**
 * Abuse while a normal client ("the neighbour") keeps using the app: slowloris (headers dribbled),
 * slow bodies, clients that never read, and a flood of new sessions (logins). Reports the
 * neighbour's p50/p99 and the peak RSS of this process (the app runs in it).
 */
import { connect, type Socket } from 'node:net';
import type { App } from 'quickstep';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface AbuseResult { name: string; neighbourRequests: number; neighbourErrors: number; p50: number; p99: number; peakRss: number; attack: string }

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

/** Runs `attack` for `seconds` while the neighbour (its own logged-in session) reads /whoami. */
export async function abuse(app: App, url: string, name: string, seconds: number, attack: (port: number, until: number) => Promise<string>): Promise<AbuseResult> {
  const port = Number(new URL(url).port);
  const login = await fetch(url + '/login', { method: 'POST', body: 'user=neighbour', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const until = Date.now() + seconds * 1000;
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const latencies: number[] = [];
  let errors = 0;
  const neighbour = (async () => {
    while (Date.now() < until) {
      const started = performance.now();
      try {
        const res = await fetch(url + '/whoami', { headers: { cookie }, signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
      } catch { errors++; }
      latencies.push(performance.now() - started);
      await sleep(5);
    }
  })();
  const attackSummary = await attack(port, until);
  await neighbour;
  clearInterval(rssTimer);
  latencies.sort((a, b) => a - b);
  void app;
  return { name, neighbourRequests: latencies.length, neighbourErrors: errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), peakRss, attack: attackSummary };
}

function open(port: number): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  return socket;
}

/** `count` connections each sending one header byte every 500 ms. */
export const slowloris = (count: number) => async (port: number, until: number) => {
  const sockets = Array.from({ length: count }, () => open(port));
  let closedByServer = 0;
  for (const s of sockets) s.on('close', () => closedByServer++);
  for (const s of sockets) s.write('GET / HTTP/1.1\r\nHost: x\r\n');
  while (Date.now() < until) {
    for (const s of sockets) if (!s.destroyed) s.write('X');
    await sleep(500);
  }
  for (const s of sockets) s.destroy();
  return `${count} slowloris connections, ${closedByServer} closed by the server before the end`;
};

/** `count` POSTs announcing 1 MiB and sending a byte every 500 ms. */
export const slowBodies = (count: number) => async (port: number, until: number) => {
  const sockets = Array.from({ length: count }, () => open(port));
  let closedByServer = 0;
  for (const s of sockets) s.on('close', () => closedByServer++);
  for (const s of sockets) s.write('POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\nuser=');
  while (Date.now() < until) {
    for (const s of sockets) if (!s.destroyed) s.write('a');
    await sleep(500);
  }
  for (const s of sockets) s.destroy();
  return `${count} slow bodies, ${closedByServer} closed by the server before the end`;
};

/** `count` connections pipelining requests for a large page and never reading. */
export const neverReads = (count: number) => async (port: number, until: number) => {
  const sockets = Array.from({ length: count }, () => open(port));
  for (const s of sockets) { s.pause(); s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)); }
  while (Date.now() < until) await sleep(200);
  for (const s of sockets) s.destroy();
  return `${count} connections × 200 pipelined requests, never read`;
};

/** New sessions at `perMinute` (logins from fresh clients), as many as the time allows. */
export const loginFlood = (perMinute: number) => async (port: number, until: number) => {
  const url = `http://127.0.0.1:${port}`;
  const interval = 60_000 / perMinute;
  let done = 0, failed = 0;
  const start = Date.now();
  const workers = Array.from({ length: 16 }, async () => {
    while (Date.now() < until) {
      const due = start + done * interval;
      if (Date.now() < due) { await sleep(Math.min(50, due - Date.now())); continue; }
      done++;
      try {
        const res = await fetch(url + '/login', { method: 'POST', body: `user=u${done}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
        await res.arrayBuffer();
        if (res.status !== 303) failed++;
      } catch { failed++; }
    }
  });
  await Promise.all(workers);
  const seconds = (Date.now() - start) / 1000;
  return `${done} logins in ${seconds.toFixed(1)} s (${Math.round((done / seconds) * 60)}/min), ${failed} not 303`;
};
