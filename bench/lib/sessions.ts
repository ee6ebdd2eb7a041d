/** The sessions a load test cycles through, made the way a browser would get them. */
import type { ServerSpec } from '../scenarios.ts';

/** Sessions created per server; wrk cycles through them (one per connection on average). */
export const SESSIONS = 50;

/**
 * Creates `count` sessions through GET /write (or the server's `sessionPath`), with the server's
 * headers, and checks one reads back, returning their cookies.
 */
export async function createSessions(url: string, spec: Pick<ServerSpec, 'sessionPath' | 'headers'>, count: number): Promise<string[]> {
  const cookies: string[] = [];
  const path = spec.sessionPath ?? '/write';
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}${path}`, { headers: spec.headers ?? {} });
    const body = await response.text();
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (!response.ok || cookie === undefined) throw new Error(`GET ${path} answered ${response.status} "${body.slice(0, 80)}" with no session cookie`);
    cookies.push(cookie);
  }
  const check = await (await fetch(`${url}/read`, { headers: { ...spec.headers, cookie: cookies[0]! } })).text();
  if (check !== '1') throw new Error(`GET /read after one write answered "${check.slice(0, 80)}", expected "1"`);
  return cookies;
}
