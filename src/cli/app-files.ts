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
      // tsx runs app.ts on every supported Node (20 cannot strip types; 22.18+ and 24 could run it with plain node).
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
    // A form with its CSRF token: CSRF protection is on by default, so a new app's first form
    // shows how every POST passes it (docs/design.md#csrf-on-by-default).
    'routes.ts': `// The app's routes, registered on the app they are given (app.ts's, or a test's own).
import { csrfToken, param, redirect, session, template, type App } from 'quickstep';

export function routes(app: App): App {
  return app
    .get('/', async () => template('index', { title: '${name}', note: await session('note'), csrf: await csrfToken() }))
    // A POST must carry the page's CSRF token (the form's _csrf field): without it, a 403.
    .post('/note', async () => {
      const note = param('note');
      await session('note', typeof note === 'string' ? note.slice(0, 200) : undefined);
      return redirect('/', 303);
    });
}
`,
    // The engine from the environment, as the example app's config.yml does: the README's
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
    'views/layouts/main.eta': `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title><%= it.title %></title><link rel="stylesheet" href="/css/style.css"></head>
<body><main>
<%~ it.content %>
</main></body>
</html>
`,
    'views/index.eta': `<h1><%= it.title %></h1>
<p>It works. Edit <code>views/index.eta</code> and reload: in development the page shows your change.</p>
<form method="post" action="/note">
  <input type="hidden" name="_csrf" value="<%= it.csrf %>">
  <label>A note kept in your session <input name="note" value="<%= it.note ?? '' %>"></label>
  <button>Save</button>
</form>
`,
    'public/css/style.css': `body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; }
main { max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
h1 { font-weight: 600; }
`,
    'public/404.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title><link rel="stylesheet" href="/css/style.css"></head>
<body><main><h1>Not found</h1><p>There is nothing at this address. <a href="/">Home</a></p></main></body></html>
`,
    'public/500.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong</title><link rel="stylesheet" href="/css/style.css"></head>
<body><main><h1>Something went wrong</h1><p>It was our fault, not yours. Please try again.</p></main></body></html>
`,
    // Served for any 503: the session store down or too slow, or the app's own status(503).
    'public/503.html': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Back in a moment</title><link rel="stylesheet" href="/css/style.css"></head>
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

test("the note form: saved with the page's CSRF token, refused (403) without it", async () => {
  const client = await testClient(routes(createApp(loadConfig({ dir: root, environment: 'test' }))));
  try {
    const token = /name="_csrf" value="([^"]+)"/.exec((await client.get('/')).text)![1]!;
    assert.equal((await client.post('/note', { form: { note: 'forged' } })).status, 403);
    assert.equal((await client.post('/note', { form: { note: 'milk', _csrf: token } })).status, 303);
    assert.match((await client.get('/')).text, /value="milk"/);
  } finally {
    await client.close();
  }
});
`,
  };
}
