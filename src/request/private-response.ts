/**
 * What a response built from a session tells caches and the browser
 * (docs/design.md#private-responses, docs/design.md#logout-clears-the-browser), set just before
 * it is written, only for a request whose session part was used (pipeline.ts): a route that never
 * touches the session gets none of this and pays nothing for it.
 *
 * - `Cache-Control: no-store` when the response is private (RequestSession.isPrivate: a session
 *   or CSRF cookie came or goes, a session was read, written or ended, a CSRF token was handed
 *   out), unless the route set a Cache-Control of its own: its choice is kept.
 * - `Vary: Cookie` otherwise: on a response the route made cacheable, and on one that looked for
 *   a session and found none (an anonymous page), so that a shared cache never serves one
 *   browser's copy to another that sends a different cookie.
 * - `Clear-Site-Data` when the request ended its session (the `clear_site_data` setting,
 *   default `"cookies"`). `"cookies"` is left out when the same response sets a cookie that is
 *   not an expiry (a flash written after logout starts a new session): browsers may apply the
 *   header after the response's own Set-Cookie, and would drop it.
 */
import type { HeaderMap, ResponseState } from '../response/response-state.ts';
import type { RequestSession } from '../session/request-session.ts';

/** Sets the headers above on `response`, from what `session` (this request's) did. */
export function markPrivate(response: ResponseState, session: RequestSession): void {
  const headers = response.headers;
  if (session.isPrivate && headers['cache-control'] === undefined) headers['cache-control'] = 'no-store';
  else varyOnCookie(headers);
  const clear = session.clearSiteData();
  if (clear.length > 0) clearSiteData(headers, clear);
}

function varyOnCookie(headers: HeaderMap): void {
  const vary = headers.vary;
  if (vary === undefined) {
    headers.vary = 'Cookie';
    return;
  }
  const fields = (Array.isArray(vary) ? vary.join(',') : vary).split(',').map(field => field.trim().toLowerCase());
  // `*` already varies on everything.
  if (!fields.includes('cookie') && !fields.includes('*')) headers.vary = `${Array.isArray(vary) ? vary.join(', ') : vary}, Cookie`;
}

function clearSiteData(headers: HeaderMap, clear: readonly string[]): void {
  const keepsCookies = setsLiveCookie(headers['set-cookie']);
  const directives = [...new Set(clear)].filter(kind => !(keepsCookies && kind === 'cookies'));
  if (directives.length > 0) headers['clear-site-data'] = directives.map(kind => `"${kind}"`).join(', ');
}

/** Whether a Set-Cookie among `values` keeps a cookie (anything but `Max-Age=0`, how every expiry here is written). */
function setsLiveCookie(values: string | string[] | undefined): boolean {
  if (values === undefined) return false;
  return (Array.isArray(values) ? values : [values]).some(value => !/;\s*max-age=0\s*(;|$)/i.test(value));
}
