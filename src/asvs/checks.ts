/**
 * One check per ASVS 5.0 requirement the audit can test over HTTP, in the standard's order: its
 * id, level (the lowest level that requires it) and a short title, and the request sequence that
 * decides it (the sequences are those of the team's ASVS checklist, kept beside each check).
 * A check returns pass or fail with the evidence (what was sent, what came back), or n/a with
 * what the audit would need to know. Checks run one after the other, each with jars of its own,
 * so a result never depends on another check's cookies; the ones that may change the test account
 * (`destructive`) run last.
 */
import type { Exchange } from './agent.ts';
import { CookieJar, lifetimeOf, type SetCookieLine } from './cookie-jar.ts';
import type { AuditOptions, Flows } from './flow.ts';

export type Outcome = 'pass' | 'fail' | 'n/a';

/** One row of the audit. */
export interface AuditResult {
  /** The ASVS 5.0 id, e.g. `3.3.1`. */
  id: string;
  /** 1, 2 or 3: the lowest ASVS level that requires it. */
  level: 1 | 2 | 3;
  title: string;
  outcome: Outcome;
  /** What was sent and what came back; for n/a, what the audit would need. */
  evidence: string;
}

/** What every check gets: the flows, and one logged-in-then-out visit recorded before any check. */
export interface CheckContext {
  flows: Flows;
  options: AuditOptions;
  observed: Observation;
}

/** A browser's visit, recorded: the login page, login, the logged-in page, logout. */
export interface Observation {
  exchanges: Exchange[];
  login: Exchange;
  loggedInPage: Exchange;
  logout: Exchange;
  /** The session cookie's value while logged in. */
  id: string;
  cookieName: string;
}

export interface Check {
  id: string;
  level: 1 | 2 | 3;
  title: string;
  /**
   * It may change the test account: `changes` (a credential) runs after every other check,
   * `deletes` (the account) last of all.
   */
  destructive?: 'changes' | 'deletes';
  /**
   * Why the check is n/a for this description (what it would need), or undefined when it runs:
   * decided from the options alone, so a runner can skip the row before the audit starts.
   */
  needs?(options: AuditOptions): string | undefined;
  run(ctx: CheckContext): Promise<{ outcome: 'pass' | 'fail'; evidence: string }>;
}

const pass = (evidence: string) => ({ outcome: 'pass' as const, evidence });
const fail = (evidence: string) => ({ outcome: 'fail' as const, evidence });
const sleep = (seconds: number) => new Promise(resolve => setTimeout(resolve, seconds * 1000));

const where = (exchange: Exchange) => `${exchange.method} ${exchange.path} (${exchange.status})`;

/** The cookies the app set with a value during `exchanges` (deletions left out), the first line of each name. */
function cookiesSet(exchanges: readonly Exchange[]): { line: SetCookieLine; at: Exchange }[] {
  const seen = new Map<string, { line: SetCookieLine; at: Exchange }>();
  for (const at of exchanges) {
    for (const line of at.setCookies) {
      const lifetime = lifetimeOf(line);
      if (line.value !== '' && (lifetime === undefined || lifetime > 0) && !seen.has(line.name)) seen.set(line.name, { line, at });
    }
  }
  return [...seen.values()];
}

/** Each cookie that has a problem, as `name (where): problems`; empty when none. */
function cookieProblems(exchanges: readonly Exchange[], problemsOf: (line: SetCookieLine) => string[]): string[] {
  return cookiesSet(exchanges).flatMap(({ line, at }) => {
    const problems = problemsOf(line);
    return problems.length === 0 ? [] : [`${line.name} (set by ${where(at)}): ${problems.join(', ')}`];
  });
}

const names = (exchanges: readonly Exchange[]) => cookiesSet(exchanges).map(({ line }) => line.name).join(', ');

/** A value of the same length and alphabet as `id`, with one character changed. */
function flipped(id: string): string {
  const at = Math.floor(id.length / 2);
  const c = id[at]!;
  const swap = /[0-9]/.test(c) ? (c === '0' ? '1' : '0') : /[a-z]/.test(c) ? (c === 'a' ? 'b' : 'a') : c === 'A' ? 'B' : 'A';
  return id.slice(0, at) + swap + id.slice(at + 1);
}

/** A random value shaped like `id`: the same length, each character from the same class. */
function lookalike(id: string): string {
  const pick = (chars: string) => chars[Math.floor(Math.random() * chars.length)]!;
  return [...id].map(c => (/[0-9]/.test(c) ? pick('0123456789') : /[a-f]/.test(c) ? pick('abcdef') : /[a-z]/.test(c) ? pick('abcdefghijklmnopqrstuvwxyz') : /[A-Z]/.test(c) ? pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ') : c)).join('');
}

/** Bits in a token by its alphabet: hex 4 per character, base64(url) 6, else log2 of the characters seen. */
function estimatedBits(samples: readonly string[]): number {
  const random = samples.map(sample => sample.slice(sample.lastIndexOf('.') + 1).replace(/=+$/, ''));
  const all = random.join('');
  const perChar = /^[0-9a-f]*$/i.test(all) ? 4 : /^[A-Za-z0-9_+/-]*$/.test(all) && new Set(all).size > 16 ? 6 : Math.log2(Math.max(2, new Set(all).size));
  return Math.floor(Math.min(...random.map(r => r.length)) * perChar);
}

/** The longest prefix (or suffix, `end`) all of `values` share. */
function shared(values: readonly string[], end = false): string {
  const texts = end ? values.map(v => [...v].reverse().join('')) : values;
  let length = 0;
  while (texts.every(t => t.length > length && t[length] === texts[0]![length])) length++;
  const common = texts[0]!.slice(0, length);
  return end ? [...common].reverse().join('') : common;
}

const CROSS_SITE = { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

export const CHECKS: readonly Check[] = [
  {
    id: '3.3.1', level: 1, title: 'Cookies have Secure and a __Host- or __Secure- name',
    // Every Set-Cookie of a visit; then a login with a spoofed X-Forwarded-Proto: http must keep Secure.
    async run({ flows, observed }) {
      const problems = cookieProblems(observed.exchanges, line => [
        ...(line.attributes.has('secure') ? [] : ['no Secure']),
        ...(/^__(host|secure)-/i.test(line.name) ? [] : ['no __Host-/__Secure- prefix']),
      ]);
      const spoofed = await flows.run(new CookieJar(), flows.options.login, { headers: { 'x-forwarded-proto': 'http' } });
      const lost = cookiesSet([spoofed]).filter(({ line }) => !line.attributes.has('secure') && cookiesSet(observed.exchanges).some(o => o.line.name === line.name && o.line.attributes.has('secure')));
      if (lost.length > 0) problems.push(`${lost.map(({ line }) => line.name).join(', ')} lost Secure on a login sent with X-Forwarded-Proto: http`);
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(`${names(observed.exchanges)}: Secure, with a __Host-/__Secure- prefix; Secure kept with a spoofed X-Forwarded-Proto: http`);
    },
  },
  {
    id: '3.3.2', level: 2, title: 'Cookies set SameSite deliberately (Lax or Strict)',
    async run({ observed }) {
      const problems = cookieProblems(observed.exchanges, line => {
        const sameSite = line.attributes.get('samesite');
        if (sameSite === undefined) return ['no SameSite'];
        return /^(lax|strict)$/i.test(sameSite) ? [] : [`SameSite=${sameSite}`];
      });
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(cookiesSet(observed.exchanges).map(({ line }) => `${line.name}: SameSite=${line.attributes.get('samesite')}`).join('; '));
    },
  },
  {
    id: '3.3.3', level: 2, title: 'Cookies use the __Host- prefix (Path=/, no Domain)',
    async run({ observed }) {
      const problems = cookieProblems(observed.exchanges, line => [
        ...(/^__host-/i.test(line.name) ? [] : ['no __Host- prefix']),
        ...(line.attributes.has('domain') ? [`Domain=${line.attributes.get('domain')}`] : []),
      ]);
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(`${names(observed.exchanges)}: __Host- prefix, no Domain (the jar, as a browser, accepted them)`);
    },
  },
  {
    id: '3.3.4', level: 2, title: 'The session cookie is HttpOnly and its value travels only in Set-Cookie',
    // The raw id looked for in every body and every header but Set-Cookie of the recorded visit.
    async run({ observed }) {
      const problems: string[] = [];
      const session = cookiesSet(observed.exchanges).find(({ line }) => line.name === observed.cookieName);
      if (session && !session.line.attributes.has('httponly')) problems.push(`${observed.cookieName} (set by ${where(session.at)}) has no HttpOnly`);
      for (const exchange of observed.exchanges) {
        if (exchange.body.includes(observed.id)) problems.push(`the session id is in the body of ${where(exchange)}`);
        for (const [name, value] of Object.entries(exchange.headers)) {
          if (name !== 'set-cookie' && String(value).includes(observed.id)) problems.push(`the session id is in the ${name} header of ${where(exchange)}`);
        }
      }
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(`${observed.cookieName}: HttpOnly; its value is in no body or other header of ${observed.exchanges.length} responses of a login and logout`);
    },
  },
  {
    id: '3.3.5', level: 3, title: 'Each cookie\'s name and value take at most 4096 bytes',
    async run({ observed }) {
      const sizes = observed.exchanges.flatMap(e => e.setCookies.map(line => ({ name: line.name, bytes: Buffer.byteLength(line.name + line.value), at: e })));
      const over = sizes.filter(s => s.bytes > 4096);
      if (over.length > 0) return fail(over.map(s => `${s.name} (set by ${where(s.at)}): ${s.bytes} bytes`).join('; '));
      const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '(none)', bytes: 0 });
      return pass(`${sizes.length} Set-Cookie lines, the largest ${largest.name} at ${largest.bytes} bytes (a session grown towards the limit is not tried: the description gives no way to grow one)`);
    },
  },
  {
    id: '3.5.1', level: 1, title: 'Forged cross-site requests are refused (anti-forgery token or non-safelisted header)',
    // A logged-in browser posts the logout form without the token, and with another browser's
    // token; a browser posts the login form without the token (login CSRF). None may take effect.
    async run({ flows, options }) {
      const problems: string[] = [];
      const seen: string[] = [];
      const victim = await flows.logIn();
      const bare = await flows.run(victim.jar, options.logout, { withToken: false });
      seen.push(`logout without a token: ${bare.status}`);
      if (!(await flows.isLoggedIn(victim.jar))) problems.push(`${where(bare)} without a token logged the user out`);
      else if (options.logout.csrf !== undefined) {
        const other = await flows.logIn();
        const token = await flows.csrfToken(other.jar, options.logout.csrf);
        const crossed = await flows.run(victim.jar, options.logout, { withToken: token });
        seen.push(`with another browser's token: ${crossed.status}`);
        if (!(await flows.isLoggedIn(victim.jar))) problems.push(`${where(crossed)} with another browser's token logged the user out`);
      }
      const visitor = new CookieJar();
      if (options.login.csrf !== undefined) await flows.agent.send(visitor, options.login.csrf.page);
      const forged = await flows.run(visitor, options.login, { withToken: false });
      seen.push(`login without a token: ${forged.status}`);
      if (await flows.isLoggedIn(visitor)) problems.push(`${where(forged)} without a token logged the browser in (login CSRF)`);
      if (problems.length > 0) return fail(problems.join('; '));
      return pass(`refused, the session unchanged: ${seen.join('; ')}`);
    },
  },
  {
    id: '3.5.2', level: 1, title: 'No simple cross-origin request reaches a state-changing function',
    // A text/plain POST (no preflight) from another origin, as a page on that origin can send.
    async run({ flows, options }) {
      const victim = await flows.logIn();
      const simple = await flows.run(victim.jar, options.logout, { withToken: false, body: 'x=1', headers: { ...CROSS_SITE, 'content-type': 'text/plain', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' } });
      if (!(await flows.isLoggedIn(victim.jar))) return fail(`a text/plain ${where(simple)} from Origin https://attacker.example logged the user out`);
      return pass(`a text/plain ${where(simple)} from Origin https://attacker.example was refused; the user stayed logged in`);
    },
  },
  {
    id: '3.5.3', level: 1, title: 'Sensitive functions are not reachable by GET or HEAD (or Sec-Fetch-* is validated)',
    async run({ flows, options }) {
      const problems: string[] = [];
      const victim = await flows.logIn();
      for (const method of ['GET', 'HEAD']) {
        const sent = await flows.run(victim.jar, options.logout, { method, withToken: false });
        if (!(await flows.isLoggedIn(victim.jar))) {
          problems.push(`${where(sent)} logged the user out`);
          break;
        }
      }
      const visitor = new CookieJar();
      const viaGet = await flows.run(visitor, options.login, { method: 'GET', withToken: false });
      if (await flows.isLoggedIn(visitor)) problems.push(`${where(viaGet)} logged the browser in`);
      if (problems.length > 0) return fail(problems.join('; '));
      // The standard's "or": with no safe method reaching them, fetch metadata is defence in
      // depth; what the app does with it is reported, not judged.
      const crossSite = await flows.run(victim.jar, options.logout, { headers: CROSS_SITE });
      const refused = await flows.isLoggedIn(victim.jar);
      return pass(`GET and HEAD ${options.logout.path} and GET ${options.login.path} took no effect; a cross-site POST with a valid token (Sec-Fetch-Site: cross-site) was ${refused ? `refused (${crossSite.status})` : `accepted (${crossSite.status}): fetch metadata is not checked`}`);
    },
  },
  {
    id: '7.2.1', level: 1, title: 'Session tokens are verified by the backend',
    // The real id with one character changed, and a random lookalike: neither may be logged in.
    async run({ flows }) {
      const { id } = await flows.logIn();
      const results: string[] = [];
      for (const [label, value] of [['the id with one character changed', flipped(id)], ['a random value shaped like an id', lookalike(id)]] as const) {
        const jar = flows.replay(value);
        if (await flows.isLoggedIn(jar)) return fail(`${label} was accepted as logged in`);
        const last = flows.agent.exchanges.at(-1)!;
        if (last.status >= 500) return fail(`${label} made ${where(last)}: a server error, not an anonymous answer`);
        results.push(`${label}: anonymous (${last.status})`);
      }
      return pass(results.join('; '));
    },
  },
  {
    id: '7.2.2', level: 1, title: 'Session tokens are generated per session, not static',
    async run({ flows }) {
      const first = await flows.logIn();
      const second = await flows.logIn();
      if (first.id === second.id) return fail('two browsers logging in as the same user got the same session token');
      await flows.logOut(first.jar);
      const again = await flows.logIn(first.jar);
      if (again.id === first.id) return fail('logging out and in again gave back the same session token');
      return pass('two logins as the same user, and a login after logout, each got a different token');
    },
  },
  {
    id: '7.2.3', level: 1, title: 'Reference tokens are unique and have at least 128 bits of entropy',
    async run({ flows, options }) {
      const count = Math.min(32, Math.max(2, options.idSamples ?? 8));
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await flows.logIn()).id);
      const distinct = new Set(ids).size;
      const tails = ids.map(id => id.slice(id.lastIndexOf('.') + 1));
      // A part every token shares (a version or key byte of a sealed token, a counter's high
      // digits, a fixed "sess_") carries no entropy: only what varies is counted.
      const prefix = shared(tails);
      const suffix = shared(tails, true);
      const bits = estimatedBits(tails.map(tail => tail.slice(prefix.length, tail.length - suffix.length)));
      const sharedParts = [
        ...(prefix !== '' ? [`start with ${JSON.stringify(prefix)}`] : []),
        ...(suffix !== '' ? [`end with ${JSON.stringify(suffix)}`] : []),
      ];
      const problems = [
        ...(distinct < count ? [`${count - distinct} repeated among ${count} tokens`] : []),
        ...(bits < 128 ? [`about ${bits} bits by length and alphabet in the part that varies (${ids[0]!.length} characters${sharedParts.length > 0 ? `; all ${sharedParts.join(' and ')}` : ''})`] : []),
      ];
      if (problems.length > 0) return fail(problems.join('; '));
      const structure = sharedParts.length === 0 ? 'no shared prefix or suffix' : `all ${sharedParts.join(' and ')}, not counted`;
      return pass(`${count} tokens from ${count} logins: all distinct, about ${bits} bits each by length and alphabet, ${structure} (that the generator is a CSPRNG is not visible over HTTP)`);
    },
  },
  {
    id: '7.2.4', level: 1, title: 'A new session token on authentication and re-authentication; the old one ends',
    async run({ flows }) {
      const planted = lookalike((await flows.logIn()).id);
      const fixated = flows.replay(planted);
      const afterPlant = await flows.logIn(fixated);
      if (afterPlant.id === planted) return fail('a session id planted in the browser before login was kept at login (session fixation)');
      const before = afterPlant.id;
      const again = await flows.logIn(afterPlant.jar);
      if (again.id === before) return fail(`logging in again (re-authentication) kept the session token: ${where(again.response)} sent no new one`);
      if (await flows.isLoggedIn(flows.replay(before))) return fail('after re-authentication the previous session token is still logged in');
      return pass('a planted id was replaced at login; re-authentication gave a new token and the previous one was no longer logged in');
    },
  },
  {
    id: '7.3.1', level: 2, title: 'An inactivity timeout is enforced',
    needs({ idleTimeout: idle, maxWait = 30 }) {
      if (idle === undefined) return 'needs the configured inactivity timeout (idleTimeout, seconds)';
      const wait = Math.ceil(idle * 2.2 + 1 + idle / 4);
      if (wait > maxWait) return `an idle timeout of ${idle} s needs about ${wait} s of waiting, more than maxWait (${maxWait} s): audit a test configuration with a short timeout`;
      return undefined;
    },
    async run({ flows, options }) {
      const idle = options.idleTimeout!;
      const slack = 1 + idle / 4;
      const { jar } = await flows.logIn();
      // Two uses 0.6 of the timeout apart: the session outlives the timeout while it is used (sliding).
      for (let i = 0; i < 2; i++) {
        await sleep(idle * 0.6);
        if (!(await flows.isLoggedIn(jar))) return fail(`logged out after ${((i + 1) * 0.6).toFixed(1)} × the idle timeout while in use: the timeout does not slide`);
      }
      await sleep(idle + slack);
      if (await flows.isLoggedIn(jar)) return fail(`still logged in after ${(idle + slack).toFixed(1)} s without use (idle timeout ${idle} s)`);
      return pass(`in use for ${(idle * 1.2).toFixed(1)} s: still logged in; then ${(idle + slack).toFixed(1)} s idle: logged out`);
    },
  },
  {
    id: '7.3.2', level: 2, title: 'An absolute session lifetime is enforced',
    needs({ absoluteTimeout: absolute, maxWait = 30 }) {
      if (absolute === undefined) return 'needs the configured absolute session lifetime (absoluteTimeout, seconds)';
      if (absolute * 1.1 + 1 > maxWait) return `an absolute lifetime of ${absolute} s is longer than maxWait (${maxWait} s) allows: audit a test configuration with a short lifetime`;
      return undefined;
    },
    async run({ flows, options }) {
      const absolute = options.absoluteTimeout!;
      const slack = 1 + absolute / 10;
      // Used more often than the idle timeout allows, so only the absolute lifetime can end it.
      const step = Math.min(absolute / 3, (options.idleTimeout ?? Infinity) / 2);
      const { jar } = await flows.logIn();
      const started = Date.now();
      let elapsed = 0;
      while (elapsed < absolute + slack) {
        await sleep(Math.min(step, absolute + slack - elapsed));
        elapsed = (Date.now() - started) / 1000;
        if (!(await flows.isLoggedIn(jar))) {
          if (elapsed < absolute - 0.5) return fail(`logged out after ${elapsed.toFixed(1)} s of use, before the absolute lifetime (${absolute} s)`);
          return pass(`used every ${step.toFixed(1)} s, logged out after ${elapsed.toFixed(1)} s (absolute lifetime ${absolute} s)`);
        }
      }
      return fail(`still logged in after ${elapsed.toFixed(1)} s of use (absolute lifetime ${absolute} s)`);
    },
  },
  {
    id: '7.4.1', level: 1, title: 'After logout the session cannot be used',
    // The id kept from before logout is replayed: a sealed cookie without revocation fails here.
    async run({ flows }) {
      const { jar, id } = await flows.logIn();
      const out = await flows.logOut(jar);
      const cleared = out.setCookies.some(line => line.name === flows.cookieName && ((lifetimeOf(line) ?? 1) <= 0 || line.value === ''));
      if (await flows.isLoggedIn(jar)) return fail(`${where(out)} did not log the browser out`);
      if (await flows.isLoggedIn(flows.replay(id))) return fail(`the session token from before ${where(out)}, replayed, is still logged in`);
      return pass(`after ${where(out)} the token from before, replayed, is anonymous; the response ${cleared ? 'cleared' : 'did not clear'} the cookie`);
    },
  },
  {
    id: '7.4.2', level: 1, title: 'Disabling or deleting an account ends all its sessions', destructive: 'deletes',
    needs: options => (options.disableAccount === undefined ? 'needs a step that disables or deletes the test account (disableAccount)' : undefined),
    async run({ flows, options }) {
      const one = await flows.logIn();
      const two = await flows.logIn();
      const done = await flows.run(one.jar, options.disableAccount!);
      const still = [(await flows.isLoggedIn(one.jar)) && 'the browser that did it', (await flows.isLoggedIn(two.jar)) && 'another browser'].filter(Boolean);
      if (still.length > 0) return fail(`after ${where(done)} ${still.join(' and ')} stayed logged in`);
      return pass(`after ${where(done)} both browsers logged in as the account were logged out`);
    },
  },
  {
    id: '7.4.3', level: 2, title: 'After a credential change, the user\'s other sessions can be ended', destructive: 'changes',
    needs: options => (options.credentialChange === undefined ? 'needs a credential change step that ends the other sessions (credentialChange)' : undefined),
    async run({ flows, options }) {
      const one = await flows.logIn();
      const two = await flows.logIn();
      const done = await flows.run(one.jar, options.credentialChange!);
      if (await flows.isLoggedIn(two.jar)) return fail(`after ${where(done)} another browser logged in as the user is still logged in`);
      if (!(await flows.isLoggedIn(one.jar))) return fail(`after ${where(done)} the browser that made the change was logged out too`);
      const renewed = one.jar.get(flows.cookieName!) !== one.id;
      return pass(`after ${where(done)} the other browser was logged out, this one stayed logged in${renewed ? ' with a new token' : ' (same token)'}`);
    },
  },
  {
    id: '7.5.2', level: 2, title: 'Users can see their active sessions and end them',
    needs: options => (options.sessions === undefined ? 'needs the page listing the user\'s sessions and the step that ends the others (sessions)' : undefined),
    async run({ flows, options }) {
      const sessions = options.sessions!;
      const one = await flows.logIn();
      const two = await flows.logIn();
      const page = await flows.agent.send(one.jar, sessions.path);
      if (page.status < 200 || page.status >= 300) return fail(`${where(page)}: the sessions page did not answer a logged-in user`);
      const done = await flows.run(one.jar, sessions.endOthers);
      if (await flows.isLoggedIn(two.jar)) return fail(`after ${where(done)} the other browser is still logged in`);
      if (!(await flows.isLoggedIn(one.jar))) return fail(`after ${where(done)} this browser was logged out too`);
      return pass(`${where(page)} answered; ${where(done)} ended the other browser's session and kept this one (whether ending them asks for re-authentication is not checked)`);
    },
  },
  {
    id: '14.2.1', level: 1, title: 'The session token is never in a URL',
    // Accepted only from the cookie: the same id as query parameters and headers must be anonymous.
    async run({ flows, observed }) {
      const inUrl = observed.exchanges.filter(e => String(e.headers.location ?? '').includes(observed.id));
      if (inUrl.length > 0) return fail(`the session id is in the Location of ${inUrl.map(where).join(', ')}`);
      const { id } = await flows.logIn();
      const names = [flows.cookieName!, 'sid', 'session', 'sessionid', 'session_id', 'token'];
      const query = names.map(name => `${encodeURIComponent(name)}=${encodeURIComponent(id)}`).join('&');
      const path = flows.options.loggedIn.path;
      const asInput = await flows.isLoggedIn(new CookieJar(), { path: `${path}${path.includes('?') ? '&' : '?'}${query}`, headers: { authorization: `Bearer ${id}`, 'x-session-id': id, 'x-session-token': id } });
      if (asInput) return fail(`the session id sent in the query (${names.join(', ')}) or in Authorization / X-Session-Id headers was accepted`);
      return pass('no Location carried the id; the id sent in the query, in Authorization: Bearer and in X-Session-Id was ignored (anonymous)');
    },
  },
  {
    id: '14.3.1', level: 1, title: 'Logout clears client-side data (Clear-Site-Data)',
    async run({ observed }) {
      const header = observed.logout.headers['clear-site-data'];
      const value = Array.isArray(header) ? header.join(', ') : header;
      if (value === undefined) return fail(`${where(observed.logout)} has no Clear-Site-Data header`);
      if (!/"cookies"|"\*"/.test(value)) return fail(`${where(observed.logout)} has Clear-Site-Data: ${value}, without "cookies"`);
      return pass(`${where(observed.logout)}: Clear-Site-Data: ${value}`);
    },
  },
  {
    id: '14.3.2', level: 2, title: 'Sensitive responses are not cached (Cache-Control: no-store)',
    // The login response (it sets the session cookie) and the logged-in page.
    async run({ observed }) {
      const sensitive = [observed.login, observed.loggedInPage, ...observed.exchanges.filter(e => e.setCookies.some(line => line.name === observed.cookieName))];
      const missing = [...new Set(sensitive)].filter(e => !/(^|,)\s*no-store\b/i.test(String(e.headers['cache-control'] ?? '')));
      if (missing.length > 0) return fail(missing.map(e => `${where(e)}: Cache-Control ${e.headers['cache-control'] === undefined ? 'absent' : JSON.stringify(e.headers['cache-control'])}`).join('; '));
      return pass(`${new Set(sensitive).size} responses (login, the logged-in page, every one setting ${observed.cookieName}): no-store`);
    },
  },
];
