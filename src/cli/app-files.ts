/**
 * The files `quickstep new` writes: a runnable app as `dancer2 gen` makes one (app.ts, routes,
 * config.yml, environments/, views/, public/, a node:test test, a package.json and the
 * tsconfig.json `npm run typecheck` uses). Kept as text here rather than as a folder in the
 * package, so it ships in dist/ like the rest and the build needs no copy step. `${name}` is the
 * app's name, `${version}` Quickstep's.
 */

/**
 * The TypeScript the new app checks itself with: the range Quickstep is built and tested with
 * (its package.json's devDependencies; test/cli/app-files.test.ts keeps the two equal), so the
 * options below are known to exist in it (erasableSyntaxOnly needs 5.8 or later).
 */
export const TYPESCRIPT_RANGE = '^7.0.2';

export function appFiles(name: string, version: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({
      name, version: '0.1.0', private: true, type: 'module',
      // tsx runs app.ts on every supported Node: a Node 22 before 22.18 cannot strip types (22.18+, 24 and 26 could run it with plain node).
      scripts: { start: 'tsx app.ts', test: 'node --import tsx --test test/*.test.ts', typecheck: 'tsc --noEmit' },
      dependencies: { quickstep: `^${version}`, tsx: '^4.20.0' },
      devDependencies: { typescript: TYPESCRIPT_RANGE },
    }, null, 2)}\n`,
    // tsx runs the app and tsc only checks it: the files import each other as './routes.ts', which
    // tsc accepts only with allowImportingTsExtensions, and that only with noEmit. erasableSyntaxOnly
    // keeps the code runnable by Node's own type stripping (no enums, namespaces, parameter
    // properties); types: node, as TypeScript 6 and later load no @types by default.
    'tsconfig.json': `${JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'nodenext', strict: true, noEmit: true, allowImportingTsExtensions: true,
        erasableSyntaxOnly: true, verbatimModuleSyntax: true, skipLibCheck: true, types: ['node'],
      },
    }, null, 2)}\n`,
    '.gitignore': 'node_modules/\n',
    'app.ts': `// ${name}: \`npm start\` serves it on http://127.0.0.1:3000 (PORT and config.yml change that).
import { app, dance } from 'quickstep';
import { routes } from './routes.ts';

routes(app());
await dance();
`,
    // A login with its CSRF token and a flash message: CSRF protection is on by default, so a new
    // app's first form shows how every POST passes it (docs/design.md#csrf-on-by-default), and
    // the login changes the session id, as every login must (docs/design.md#ids-and-fixation).
    'routes.ts': `// The app's routes, registered on the app they are given (app.ts's, or a test's own).
import { changeSessionId, csrfToken, destroySession, flash, param, redirect, session, template, type App } from 'quickstep';

// What the session and the flash messages hold, so that session('user') is a string.
declare module 'quickstep' {
  interface SessionData { user: string }
  interface FlashData { notice: string }
}

export function routes(app: App): App {
  return app
    .get('/', async () => template('index', { title: 'Home', ...(await page()) }))
    .get('/login', async () => template('login', { title: 'Log in', ...(await page()) }))
    // A POST must carry the page's CSRF token (the form's _csrf field): without it, a 403.
    .post('/login', async () => {
      const name = param('name');
      // Check who it is here (a password against your user store); this app takes any name.
      const user = typeof name === 'string' ? name.trim().slice(0, 40) : '';
      if (user === '') {
        await flash('notice', 'Say who you are.');
        return redirect('/login', 303);
      }
      await session('user', user);
      await changeSessionId(); // a new id at login: an id planted before it is worth nothing
      await flash('notice', \`Welcome, \${user}.\`);
      return redirect('/', 303);
    })
    .post('/logout', async () => {
      await destroySession();
      await flash('notice', 'You are logged out.');
      return redirect('/', 303);
    });
}

/** What the layout shows on every page: who is logged in, the message for this page, the forms' CSRF token. */
async function page() {
  return { user: await session('user'), notice: await flash('notice'), csrf: await csrfToken() };
}
`,
    // The engine from the environment, as the example app's config.yml does: the Redis guide's
    // `SESSION_ENGINE=Redis REDIS_URL=... npm start` then works in a new app as printed.
    'config.yml': `# ${name}'s settings; environments/<DANCER_ENVIRONMENT>.yml goes over them.
# \${NAME:-default} is read from the environment: SESSION_ENGINE=Redis REDIS_URL=redis://127.0.0.1:6379 npm start
# keeps the sessions in that Redis; without them they live in this process (Memory).
port: \${PORT:-3000}
session: \${SESSION_ENGINE:-Memory}
engines:
  session:
    # hash_ids: the store keeps SHA-256 of each session id, never the id a cookie carries.
    Memory:
      session_duration: 3600
      hash_ids: true
    Redis:
      url: "\${REDIS_URL:-redis://127.0.0.1:6379}"
      session_duration: 3600
      hash_ids: true
`,
    'environments/development.yml': `# npm start (DANCER_ENVIRONMENT unset): errors shown in the page, one log line per request.
log: info
show_errors: true
access_log: true
`,
    'environments/production.yml': `# DANCER_ENVIRONMENT=production: no details in error pages, warnings and errors logged.
log: warning
show_errors: false
access_log: false
`,
    // The layout every page is rendered in: navigation (log in, or who is logged in and a log out
    // button), the flash message, the favicon.
    'views/layouts/main.eta': `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %> · ${name}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/css/style.css">
</head>
<body>
<header>
  <nav>
    <a class="brand" href="/">${name}</a>
    <a href="/">Home</a>
    <span class="spacer"></span>
<% if (it.user) { %>
    <span>Logged in as <strong><%= it.user %></strong></span>
    <form method="post" action="/logout"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><button>Log out</button></form>
<% } else { %>
    <a href="/login">Log in</a>
<% } %>
  </nav>
</header>
<main>
<% if (it.notice) { %><p class="notice" role="status"><%= it.notice %></p><% } %>
<%~ it.content %>
</main>
<footer>Made with <a href="https://www.npmjs.com/package/quickstep">Quickstep</a>.</footer>
</body>
</html>
`,
    'views/index.eta': `<h1>${name}</h1>
<% if (it.user) { %>
<p>Hello, <%= it.user %>. Your name is kept in your session until you log out.</p>
<% } else { %>
<p>It works. <a href="/login">Log in</a> to see a session at work.</p>
<% } %>
<p>Edit <code>views/index.eta</code> and reload: in development the page shows your change. The routes are in <code>routes.ts</code>.</p>
`,
    'views/login.eta': `<h1>Log in</h1>
<form method="post" action="/login" class="card">
  <input type="hidden" name="_csrf" value="<%= it.csrf %>">
  <label>Your name <input name="name" autocomplete="username" required autofocus></label>
  <button>Log in</button>
</form>
`,
    'public/favicon.svg': `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f5bd3"/><path d="M9 22l5-12h3l-5 12zm7 0l5-12h3l-5 12z" fill="#fff"/></svg>
`,
    'public/css/style.css': `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #fff; border-bottom: 1px solid #e3e3e3; }
nav { display: flex; align-items: center; gap: 1rem; max-width: 48rem; margin: 0 auto; padding: .75rem 1rem; }
nav .brand { font-weight: 700; color: #2f5bd3; }
nav .spacer { flex: 1; }
nav form { margin: 0; }
a { color: #2f5bd3; text-decoration: none; }
a:hover { text-decoration: underline; }
main { max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-weight: 600; }
.notice { background: #e8f0fe; border: 1px solid #c6d5f7; border-radius: 6px; padding: .5rem .75rem; }
.card { display: grid; gap: .75rem; max-width: 20rem; background: #fff; border: 1px solid #e3e3e3; border-radius: 8px; padding: 1rem; }
label { display: grid; gap: .25rem; }
input, button { font: inherit; padding: .4rem .6rem; border-radius: 6px; border: 1px solid #bbb; }
button { background: #2f5bd3; border-color: #2f5bd3; color: #fff; cursor: pointer; }
footer { max-width: 48rem; margin: 3rem auto 1rem; padding: 0 1rem; color: #777; font-size: .875rem; }
`,
    'public/404.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>Not found</title><link rel="stylesheet" href="/css/style.css"></head>
<body><main><h1>Not found</h1><p>There is nothing at this address. <a href="/">Home</a></p></main></body></html>
`,
    'public/500.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>Something went wrong</title><link rel="stylesheet" href="/css/style.css"></head>
<body><main><h1>Something went wrong</h1><p>It was our fault, not yours. Please try again.</p></main></body></html>
`,
    // Served for any 503: the session store down or too slow, or the app's own status(503).
    'public/503.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>Back in a moment</title><link rel="stylesheet" href="/css/style.css"></head>
<body><main><h1>Back in a moment</h1><p>Something we depend on is not answering right now. Please try again in a minute.</p></main></body></html>
`,
    'test/app.test.ts': `// npm test: the app through real HTTP (quickstep/testing), with node:test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createApp, loadConfig } from 'quickstep';
import { testClient } from 'quickstep/testing';
import { routes } from '../routes.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the home page and a 404 page', async () => {
  const client = await testClient(routes(createApp(loadConfig({ dir: root, environment: 'test' }))));
  try {
    const home = await client.get('/');
    assert.equal(home.status, 200);
    assert.match(home.text, /<h1>${name}<\\/h1>/);
    const missing = await client.get('/nowhere');
    assert.equal(missing.status, 404);
    assert.match(missing.text, /Not found/);
  } finally {
    await client.close();
  }
});

test('log in with the form and its CSRF token: a flash welcome, then the name in the navigation; log out', async () => {
  const client = await testClient(routes(createApp(loadConfig({ dir: root, environment: 'test' }))));
  try {
    const token = /name="_csrf" value="([^"]+)"/.exec((await client.get('/login')).text)![1]!;
    assert.equal((await client.post('/login', { form: { name: 'ann' } })).status, 403, 'a form without the token (another site could send it)');
    const login = await client.post('/login', { form: { name: 'ann', _csrf: token } });
    assert.equal(login.status, 303);
    const home = (await client.get('/')).text;
    assert.match(home, /Welcome, ann\\./);
    assert.match(home, /Logged in as <strong>ann<\\/strong>/);
    assert.doesNotMatch((await client.get('/')).text, /Welcome/, 'a flash message is shown once');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home)![1]!;
    assert.equal((await client.post('/logout', { form: { _csrf: csrf } })).status, 303);
    assert.match((await client.get('/')).text, /You are logged out\\.[\\s\\S]*href="\\/login"/);
  } finally {
    await client.close();
  }
});
`,
  };
}
