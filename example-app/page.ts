/**
 * The example app's HTML: one small layout and the pages built on it. Every value that came from
 * a user goes through `escapeHtml` — the login name is the classic stored-XSS vector.
 */

/** Escapes the five characters that matter in HTML text and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, char => ENTITIES[char]!);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** What the home page shows to a logged-in user. */
export interface Visitor {
  user: string;
  visits: number;
  prefs: Record<string, unknown>;
}

const STYLE = `
  :root { color-scheme: light; --bg: #f4f5f7; --card: #fff; --text: #1d2330; --muted: #667085; --accent: #3b5bdb; }
  body.dark { color-scheme: dark; --bg: #15181e; --card: #1f242d; --text: #e6e8ec; --muted: #98a2b3; --accent: #7c93ff; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg);
         color: var(--text); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { width: min(26rem, 90vw); background: var(--card); border-radius: 12px; padding: 2rem;
         box-shadow: 0 8px 30px rgb(0 0 0 / 0.08); }
  h1 { margin: 0 0 .25rem; font-size: 1.6rem; } h2 { margin: 1.25rem 0 0; font-size: 1.05rem; } p { margin: .5rem 0; } .muted { color: var(--muted); }
  form { display: flex; gap: .5rem; margin-top: 1rem; }
  input { flex: 1; padding: .55rem .7rem; border: 1px solid #c9ced8; border-radius: 8px; font: inherit; }
  button { padding: .55rem 1rem; border: 0; border-radius: 8px; background: var(--accent); color: #fff;
           font: inherit; cursor: pointer; }
  button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
  .error { color: #c92a2a; } .count { font-size: 2.2rem; font-weight: 700; color: var(--accent); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem 1rem; margin: .5rem 0 0; }
  dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; }`;

function layout(title: string, content: string, dark = false): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Quickstep</title><style>${STYLE}</style></head>
<body${dark ? ' class="dark"' : ''}><main>
${content}
</main></body>
</html>
`;
}

/** The anonymous home page, and the 400 page of a bad login (with `error`). */
export function loginPage(error?: string): string {
  return layout(error === undefined ? 'Welcome' : 'Login failed', `
<h1>Welcome to Quickstep</h1>
<p class="muted">A tiny site whose sessions live in Memory or Redis. Who are you?</p>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/login">
  <input name="user" aria-label="Your name" placeholder="Your name" maxlength="64" required autofocus>
  <button type="submit">Log in</button>
</form>`);
}

/** The logged-in home page: greeting, visit count, preferences (with a theme switch), logout. */
export function homePage({ user, visits, prefs }: Visitor): string {
  const names = Object.keys(prefs).sort();
  const list = names.length === 0
    ? '<p class="muted">No preferences yet.</p>'
    : `<dl>${names.map(name => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(JSON.stringify(prefs[name]))}</dd>`).join('')}</dl>`;
  const dark = prefs.theme === 'dark';
  return layout(`Hello, ${user}`, `
<h1>Hello, ${escapeHtml(user)}</h1>
<p>You have visited this page <span class="count" id="visits">${visits}</span> ${visits === 1 ? 'time' : 'times'}.</p>
<h2>Preferences</h2>
${list}
<form id="theme"><button type="submit" class="secondary">Switch to ${dark ? 'light' : 'dark'} theme</button></form>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<script>
  // Preferences are a JSON API (PUT /prefs/:name); an HTML form cannot send PUT.
  document.getElementById('theme').addEventListener('submit', async event => {
    event.preventDefault();
    await fetch('/prefs/theme', { method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: ${JSON.stringify(dark ? 'light' : 'dark')} }) });
    location.reload();
  });
</script>`, dark);
}
