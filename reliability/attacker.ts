/**
 * A load generator in a process of its own (started by abuse.ts through processes.ts), so its
 * CPU is not the server's and the neighbour's latency measures the server:
 *   tsx reliability/attacker.ts <attack> <port> <start> <until> <count>   (start, until: epoch ms)
 * waits for `start` (so its own start-up is not part of the attack) and prints one line of
 * JSON, { summary }, when `until` has passed. Attacks: none, slowloris,
 * slow-bodies, never-reads, login-flood (count = logins a minute), large-sessions (count =
 * concurrent clients).
 */
import { connect, type Socket } from 'node:net';
import { login, putPref, send } from './http-client.ts';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function open(port: number): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  return socket;
}

/**
 * `count` connections that send `opening`, then `byte` every 500 ms until `until`; returns how
 * many the server closed before the end.
 */
async function trickle(port: number, until: number, count: number, opening: string, byte: string): Promise<number> {
  const sockets = Array.from({ length: count }, () => open(port));
  let closedByServer = 0;
  for (const s of sockets) s.on('close', () => closedByServer++);
  for (const s of sockets) s.write(opening);
  while (Date.now() < until) {
    for (const s of sockets) if (!s.destroyed) s.write(byte);
    await sleep(500);
  }
  for (const s of sockets) s.destroy();
  return closedByServer;
}

/** `count` connections each sending one header byte every 500 ms. */
async function slowloris(port: number, until: number, count: number): Promise<string> {
  const closedByServer = await trickle(port, until, count, 'GET / HTTP/1.1\r\nHost: x\r\n', 'X');
  return `${count} slowloris connections, ${closedByServer} closed by the server before the end`;
}

/** `count` POSTs announcing 1 MiB and sending a byte every 500 ms. */
async function slowBodies(port: number, until: number, count: number): Promise<string> {
  const opening = 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\nuser=';
  const closedByServer = await trickle(port, until, count, opening, 'a');
  return `${count} slow bodies, ${closedByServer} closed by the server before the end`;
}

/** `count` connections pipelining requests for a page and never reading. */
async function neverReads(port: number, until: number, count: number): Promise<string> {
  const sockets = Array.from({ length: count }, () => open(port));
  for (const s of sockets) { s.pause(); s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)); }
  while (Date.now() < until) await sleep(200);
  for (const s of sockets) s.destroy();
  return `${count} connections × 200 pipelined requests, never read`;
}

/**
 * New sessions at `perMinute` (logins from fresh clients) on a fixed schedule, as many as the
 * scenario's length makes at that rate (50,000 in 60 s); a server that cannot keep up makes the
 * flood take longer than the scenario, which the summary shows.
 */
async function loginFlood(port: number, until: number, perMinute: number, start: number): Promise<string> {
  const interval = 60_000 / perMinute;
  // From the scheduled start, not from when this woke (a few ms later): 50,000 in 60 s, not 49,996.
  const target = Math.round((until - start) / interval);
  let done = 0, failed = 0, refused = 0;
  const workers = Array.from({ length: 32 }, async () => {
    while (done < target && Date.now() < until + 30_000) {
      const due = start + done * interval;
      if (Date.now() < due) { await sleep(Math.min(20, due - Date.now())); continue; }
      done++;
      const { status } = await login(port, `u${done}`);
      if (status === 403) refused++;
      else if (status !== 303) failed++;
    }
  });
  await Promise.all(workers);
  const seconds = (Date.now() - start) / 1000;
  return `${done} logins in ${seconds.toFixed(1)} s (${Math.round((done / seconds) * 60)}/min), ${failed} not 303${refused ? `, ${refused} refused (403, CSRF)` : ''}`;
}

/** The longest string value of one preference the session limit (max_session_size) accepts. */
async function largestValue(port: number): Promise<{ length: number; refused: boolean }> {
  let lo = 0, hi = 1024 * 1024;
  while (hi - lo > 16) {
    const mid = Math.floor((lo + hi) / 2);
    const { status } = await putPref(port, 'big', 'x'.repeat(mid));
    if (status === 403) return { length: 0, refused: true };
    if (status === 204) lo = mid; else hi = mid;
  }
  return { length: lo, refused: false };
}

/** `count` clients, each making fresh sessions as large as the limits allow and reading them back. */
async function largeSessions(port: number, until: number, count: number): Promise<string> {
  const { length, refused } = await largestValue(port);
  if (refused) return 'refused (403, CSRF): the attacker needs a token, see http-client.ts';
  const value = 'x'.repeat(length);
  let sessions = 0, reads = 0, failed = 0;
  const workers = Array.from({ length: count }, async () => {
    while (Date.now() < until) {
      const written = await putPref(port, 'big', value);
      if (written.status !== 204 || !written.cookie) { failed++; continue; }
      sessions++;
      for (let i = 0; i < 3 && Date.now() < until; i++) {
        const read = await send(port, 'GET', '/prefs', { cookie: written.cookie });
        if (read.status === 200 && read.body.length > length) reads++; else failed++;
      }
    }
  });
  await Promise.all(workers);
  return `${count} clients: ${sessions} new sessions of ${Math.round(length / 1024)} KiB (the largest max_session_size accepts), ${reads} full reads, ${failed} failed or evicted`;
}

const attacks: Record<string, (port: number, until: number, count: number, start: number) => Promise<string>> = {
  none: async (_port, until) => { await sleep(until - Date.now()); return '-'; },
  slowloris, 'slow-bodies': slowBodies, 'never-reads': neverReads, 'login-flood': loginFlood, 'large-sessions': largeSessions,
};

const [name = '', port = '0', start = '0', until = '0', count = '1'] = process.argv.slice(2);
const attack = attacks[name];
if (!attack) throw new Error(`unknown attack ${JSON.stringify(name)}; one of ${Object.keys(attacks).join(', ')}`);
const late = Date.now() - Number(start);
if (late < 0) await sleep(-late);
let summary = await attack(Number(port), Number(until), Number(count), Number(start));
if (late > 100) summary += ` (started ${late} ms late)`;
process.stdout.write(`${JSON.stringify({ summary })}\n`);
process.exit(0);
