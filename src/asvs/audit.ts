/**
 * `audit(target, options)`: runs every check of checks.ts against the app at `target` and returns
 * one row per requirement, in the standard's order. First one recorded visit (login page, login,
 * the logged-in page, logout) that the cookie and header checks read; then each check with jars
 * of its own, one after the other (never concurrently: a bounded, polite audit), the ones that
 * may change the test account last.
 *
 * An app the description does not fit (the login does not log in) is a FlowError thrown before
 * any row: no result would mean anything. A check that cannot finish is a `fail` row saying so.
 */
import { Agent } from './agent.ts';
import { CHECKS, type AuditResult, type Observation } from './checks.ts';
import { CookieJar } from './cookie-jar.ts';
import { FlowError, Flows, type AuditOptions } from './flow.ts';

/** Audits the app at `target` (its base URL: http(s)://host:port) against ASVS 5.0's HTTP-checkable session requirements. */
export async function audit(target: string | URL, options: AuditOptions): Promise<AuditResult[]> {
  const origin = new URL(target);
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') throw new TypeError(`audit: the target must be an http: or https: URL, got ${origin.href}`);
  for (const key of ['login', 'logout', 'loggedIn'] as const) {
    if (typeof options?.[key]?.path !== 'string') throw new TypeError(`audit: options.${key}.path is required (the app's ${key === 'loggedIn' ? 'page that shows whether the user is logged in' : `${key} route`})`);
  }
  const agent = new Agent(origin, { ...(options.tls ? { tls: options.tls } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(options.maxRequests ? { maxRequests: options.maxRequests } : {}) });
  const flows = new Flows(agent, options);
  const observed = await observe(flows);
  const results = new Map<string, AuditResult>();
  const ordered = [undefined, 'changes', 'deletes'].flatMap(kind => CHECKS.filter(check => check.destructive === kind));
  for (const check of ordered) {
    let outcome: Pick<AuditResult, 'outcome' | 'evidence'>;
    const needs = check.needs?.(options);
    if (needs !== undefined) outcome = { outcome: 'n/a', evidence: needs };
    else try {
      outcome = await check.run({ flows, options, observed });
    } catch (error) {
      outcome = { outcome: 'fail', evidence: `the check could not finish: ${error instanceof Error ? error.message : String(error)}` };
    }
    results.set(check.id, { id: check.id, level: check.level, title: check.title, ...outcome });
  }
  return CHECKS.map(check => results.get(check.id)!);
}

/** The recorded visit every cookie and header check reads. */
async function observe(flows: Flows): Promise<Observation> {
  const start = flows.agent.exchanges.length;
  const jar = new CookieJar();
  let logIn;
  try {
    logIn = await flows.logIn(jar);
  } catch (error) {
    if (error instanceof FlowError) error.message = `audit: could not log in as the description says: ${error.message}`;
    throw error;
  }
  const loggedInPage = flows.agent.exchanges.at(-1)!;
  const logout = await flows.logOut(jar);
  return { exchanges: flows.agent.exchanges.slice(start), login: logIn.response, loggedInPage, logout, id: logIn.id, cookieName: flows.cookieName! };
}
