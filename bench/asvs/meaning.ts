/**
 * What a failed ASVS row means for someone building on that framework, and what they would have
 * to add themselves: the doc's last section quotes these for every row some column fails.
 */
export const MEANING: Readonly<Record<string, string>> = {
  '3.3.1': 'Without the `__Host-` (or `__Secure-`) prefix a sibling subdomain, or an attacker on plain http, can set a cookie of the same name that the app then reads (session fixation, login CSRF); a default name such as `connect.sid` also tells a scanner which framework runs. The app has to choose a `__Host-` name itself (and keep `Secure`, `Path=/`, no `Domain`).',
  '3.3.2': 'With no SameSite attribute each browser applies its own default: Chromium treats the cookie as Lax (and still sends it on a cross-site top-level POST in its first two minutes), Firefox and Safari send it on cross-site requests, so the CSRF exposure of 3.5.1 depends on the browser a user has. The app has to set `sameSite` itself.',
  '3.3.3': 'As 3.3.1, at Level 2: only the `__Host-` prefix also pins the cookie to the host and `Path=/`.',
  '3.3.4': 'A script (an XSS payload) or a log of a header could read the session id.',
  '3.5.1': 'A page on any other site can post the app\'s forms with the user\'s cookie: log them out, or log them in to an account the attacker controls (login CSRF). Even SameSite=Lax would not stop a sibling subdomain, which is same-site. The app has to add a CSRF middleware (for express a third-party package, express has none; for fastify @fastify/csrf-protection).',
  '3.5.2': 'Another origin can send a `text/plain` POST with no preflight and it reaches the route. Refusing `Sec-Fetch-Site: cross-site` or checking a CSRF token closes it.',
  '3.5.3': 'A link or an image tag on another site could run a state-changing route.',
  '7.2.1': 'The server accepts session ids it never issued.',
  '7.2.2': 'Session ids repeat across sessions, so one stolen id opens others.',
  '7.2.3': 'Session ids could be guessed.',
  '7.2.4': 'An id planted before login (session fixation) or kept across re-authentication stays valid.',
  '7.3.1': 'A session left open on a shared computer stays usable.',
  '7.3.2': 'A stolen session kept in use never ends.',
  '7.4.1': 'A copied cookie still works after the user logs out.',
  '14.2.1': 'Session ids in URLs leak through logs, Referer and history.',
  '14.3.1': 'After logout the browser keeps cookies and storage the app set, on a shared computer too. The app has to send `Clear-Site-Data: "cookies"` from its logout route itself.',
  '14.3.2': 'A shared or browser cache may store a page built from the session (the user\'s name, their data) and show it to the next person. The app has to send `Cache-Control: no-store` on every response that carries a session.',
};
