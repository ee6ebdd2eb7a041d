/**
 * What the audit is told about an app (`AuditOptions`) and the user flows it runs through a
 * browser-like jar: log in, log out, ask whether the jar is logged in, and the optional steps
 * (credential change, account deletion, ending other sessions) some requirements need. The
 * options are plain JSON but for the patterns, which may also be RegExps, so the CLI reads them
 * from a file (`quickstep audit <url> --config audit.json`).
 */
import type { AuditTls, Agent, Exchange } from './agent.ts';
import { CookieJar } from './cookie-jar.ts';

/** Where a form's CSRF token is: on the page at `page`, in a hidden field or matched by `pattern`. */
export interface CsrfSource {
  /** The path of a page whose HTML carries the token (fetched with the same jar just before). */
  page: string;
  /** The form field the token is sent in, and looked for as `name="<field>" value="..."`. Default `_csrf`. */
  field?: string;
  /** A pattern whose first group is the token, when it is not a plain hidden field. */
  pattern?: string | RegExp;
}

/** One request a flow makes: a form post unless `method` says otherwise. */
export interface FlowStep {
  path: string;
  /** Default POST. */
  method?: string;
  fields?: Record<string, string>;
  csrf?: CsrfSource;
}

export interface AuditOptions {
  /** How to log in; `fields` holds the credentials of a test account. */
  login: FlowStep;
  /** How to log out (a logged-in jar's request). */
  logout: FlowStep;
  /** A page that shows whether the jar is logged in: logged in when its body matches `pattern` (and the status is 2xx). */
  loggedIn: { path: string; pattern: string | RegExp };
  /** The session cookie's name; default: the cookie with the longest value the login response sets, CSRF cookies aside. */
  sessionCookie?: string;
  /** 7.3.1: the configured inactivity timeout, seconds. */
  idleTimeout?: number;
  /** 7.3.2: the configured absolute session lifetime, seconds. */
  absoluteTimeout?: number;
  /** The longest the audit may wait for a timeout to pass, seconds (default 30): a longer timeout is n/a. */
  maxWait?: number;
  /** 7.4.2: a step (from the logged-in user's jar) that disables or deletes the account; it runs last of all. */
  disableAccount?: FlowStep;
  /**
   * 7.4.3: a step (from a logged-in jar) that changes a credential and ends the user's other
   * sessions. It runs after every check but 7.4.2, which still logs in with `login.fields`: make
   * the change leave them valid (set the same password again).
   */
  credentialChange?: FlowStep;
  /** 7.5.2: the page listing the user's sessions, and the step that ends the others from it. */
  sessions?: { path: string; endOthers: FlowStep };
  /** How many logins 7.2.3 collects ids from (default 8, at most 32). */
  idSamples?: number;
  tls?: AuditTls;
  /** Per request (default 10,000). */
  timeoutMs?: number;
  /** Requests the whole audit may send (default 400). */
  maxRequests?: number;
}

/** A flow's failure: the app did not do what the description says (the evidence says what it did). */
export class FlowError extends Error {
  override name = 'FlowError';
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pattern a CsrfSource finds its token with. */
function tokenPattern(source: CsrfSource): RegExp {
  if (source.pattern !== undefined) return typeof source.pattern === 'string' ? new RegExp(source.pattern) : source.pattern;
  const field = escapeRegExp(source.field ?? '_csrf');
  return new RegExp(`name=["']?${field}["']?[^>]*?value=["']?([^"'\\s>]+)|value=["']?([^"'\\s>]+)["']?[^>]*?name=["']?${field}["']?`);
}

/** The user flows, for one agent. */
export class Flows {
  readonly agent: Agent;
  readonly options: AuditOptions;
  /** The session cookie's name, once known (given, or learnt at the first login). */
  cookieName: string | undefined;

  constructor(agent: Agent, options: AuditOptions) {
    this.agent = agent;
    this.options = options;
    this.cookieName = options.sessionCookie;
  }

  /** The CSRF token a page shows `jar`, or a FlowError. */
  async csrfToken(jar: CookieJar, source: CsrfSource): Promise<string> {
    const page = await this.agent.send(jar, source.page);
    const match = tokenPattern(source).exec(page.body);
    const token = match?.[1] ?? match?.[2];
    if (token === undefined) throw new FlowError(`GET ${source.page} answered ${page.status} without a CSRF token (${source.pattern ?? `field ${source.field ?? '_csrf'}`})`);
    return token;
  }

  /**
   * Runs `step` from `jar`: its CSRF token fetched first when it has one (unless `withToken` is
   * false, or a string: that token instead), then the request, with `headers` added.
   */
  async run(jar: CookieJar, step: FlowStep, extra: { withToken?: boolean | string; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Exchange> {
    const fields = { ...step.fields };
    const withToken = extra.withToken ?? true;
    if (step.csrf !== undefined && withToken !== false) fields[step.csrf.field ?? '_csrf'] = typeof withToken === 'string' ? withToken : await this.csrfToken(jar, step.csrf);
    const method = extra.method ?? step.method ?? 'POST';
    if (method === 'GET' || method === 'HEAD') {
      const query = new URLSearchParams(fields).toString();
      return this.agent.send(jar, step.path + (query && `${step.path.includes('?') ? '&' : '?'}${query}`), { method, ...(extra.headers ? { headers: extra.headers } : {}) });
    }
    if (extra.body !== undefined) return this.agent.send(jar, step.path, { method, body: extra.body, headers: extra.headers ?? {} });
    return this.agent.send(jar, step.path, { method, form: fields, ...(extra.headers ? { headers: extra.headers } : {}) });
  }

  /** Whether `jar` (or a bare Cookie header) is logged in, by the loggedIn page. */
  async isLoggedIn(jar: CookieJar, options: { cookie?: string; path?: string; headers?: Record<string, string> } = {}): Promise<boolean> {
    const { path, pattern } = this.options.loggedIn;
    const headers = { ...options.headers, ...(options.cookie === undefined ? {} : { cookie: options.cookie }) };
    const page = await this.agent.send(jar, options.path ?? path, { headers });
    const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
    return page.status >= 200 && page.status < 300 && re.test(page.body);
  }

  /** A new jar logged in through the login flow, and its session cookie's value; a FlowError when that fails. */
  async logIn(jar = new CookieJar(), headers?: Record<string, string>): Promise<{ jar: CookieJar; id: string; response: Exchange }> {
    const response = await this.run(jar, this.options.login, headers ? { headers } : {});
    if (this.cookieName === undefined) {
      // A session id is the longest value the login sets (a theme or a flag is short); a CSRF
      // cookie is never it. `sessionCookie` names it when this guess would be wrong.
      const set = response.setCookies.filter(line => !/csrf|xsrf/i.test(line.name) && line.value !== '').sort((a, b) => b.value.length - a.value.length);
      if (set.length === 0) throw new FlowError(`POST ${this.options.login.path} answered ${response.status} and set no session cookie${refusedNote(jar)}`);
      this.cookieName = set[0]!.name;
    }
    const id = jar.get(this.cookieName);
    if (id === undefined) throw new FlowError(`after ${this.options.login.method ?? 'POST'} ${this.options.login.path} (${response.status}) the jar holds no ${this.cookieName} cookie${refusedNote(jar)}`);
    if (!(await this.isLoggedIn(jar))) throw new FlowError(`after logging in (${response.status}) GET ${this.options.loggedIn.path} does not show the user logged in`);
    return { jar, id, response };
  }

  /** Logs `jar` out through the logout flow. */
  logOut(jar: CookieJar): Promise<Exchange> {
    return this.run(jar, this.options.logout);
  }

  /** A jar holding only the session cookie `id`, as an attacker replaying it would. */
  replay(id: string): CookieJar {
    const jar = new CookieJar();
    jar.plant(this.cookieName!, id);
    return jar;
  }
}

function refusedNote(jar: CookieJar): string {
  return jar.refused.length === 0 ? '' : ` (the jar, as a browser, refused: ${jar.refused.join('; ')})`;
}
