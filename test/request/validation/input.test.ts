/**
 * Route input validated with any Standard Schema (src/request/validation/input.ts), through HTTP,
 * with zod and with valibot: parsed and typed values in `ctx.valid`; a 400 naming every bad field
 * and rule (RFC 9457 problem details for a JSON client, the error page otherwise), before the
 * handler and before any session work; bad schemas refused when the route is added. The type
 * tests at the bottom are checked by `npm run typecheck`.
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { z } from 'zod';
import { createApp, type App, type Context } from '../../../src/index.ts';
import { CountingEngine } from '../../support/engine-calls.ts';
import { removeDir, siteDir } from '../../support/site-dir.ts';
import { withClient } from '../../support/serve.ts';

/** The same rules in each library: a note's id, its query and its body. */
const LIBRARIES = {
  zod: {
    params: z.object({ id: z.coerce.number().int().positive() }),
    query: z.object({ draft: z.enum(['yes', 'no']).optional() }),
    body: z.object({ title: z.string().min(1), tags: z.array(z.string()).max(3).default([]) }),
  },
  valibot: {
    params: v.object({ id: v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1)) }),
    query: v.object({ draft: v.optional(v.picklist(['yes', 'no'])) }),
    body: v.object({ title: v.pipe(v.string(), v.minLength(1)), tags: v.optional(v.pipe(v.array(v.string()), v.maxLength(3)), []) }),
  },
};

let ran = 0;

function notesApp(schemas: (typeof LIBRARIES)[keyof typeof LIBRARIES], engine?: CountingEngine, dir?: string): App {
  const app = createApp({ log: 'none', ...(dir === undefined ? {} : { public_dir: join(dir, 'public') }), engines: { session: { Memory: { csrf: true } } } }, engine && { sessionEngine: engine });
  app.post('/notes/:id', { ...schemas, csrf: false }, async ctx => {
    ran++;
    await ctx.session('last', ctx.valid.params.id);
    return { id: ctx.valid.params.id, draft: ctx.valid.query.draft ?? null, ...ctx.valid.body };
  });
  // CSRF on: the token check reads the session, and must come after the validation.
  app.put('/notes/:id', { params: schemas.params, body: schemas.body }, ctx => {
    ran++;
    return ctx.valid.body.title;
  });
  app.get('/notes/:id', { params: schemas.params }, ctx => `note ${ctx.valid.params.id + 1}`);
  app.get('/plain/:id', ctx => `plain ${ctx.param('id')}`);
  return app;
}

const JSON_CLIENT = { accept: 'application/json' };

const storeCalls = (engine: CountingEngine) => Object.values(engine.calls).reduce((sum, calls) => sum + calls.length, 0);

for (const [library, schemas] of Object.entries(LIBRARIES)) {
  const test = suite(`route validation :: ${library}`);

  test('valid input: 2xx, the handler gets the parsed values (a number id, the defaults filled in)', async () => {
    await withClient(notesApp(schemas), async client => {
      const created = await client.post('/notes/7?draft=yes', { json: { title: 'Hello' } });
      assert.is(created.status, 200, created.text);
      assert.equal(created.json(), { id: 7, draft: 'yes', title: 'Hello', tags: [] });
      assert.is((await client.get('/notes/41')).text, 'note 42', 'the id is a number: 41 + 1');
      assert.is((await client.get('/plain/x')).text, 'plain x', 'param() as before on a route without schemas');
      const form = await client.post('/notes/3', { form: { title: 'From a form' } });
      assert.equal(form.json(), { id: 3, draft: null, title: 'From a form', tags: [] }, 'a urlencoded form is a body too');
    });
  });

  test('invalid input: a JSON client gets a 400 application/problem+json naming every bad field and rule', async () => {
    await withClient(notesApp(schemas), async client => {
      ran = 0;
      const bad = await client.post('/notes/0?draft=maybe', { json: { title: '', tags: ['a', 'b', 'c', 'd'] }, headers: JSON_CLIENT });
      assert.is(bad.status, 400);
      assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = bad.json();
      assert.equal([problem.type, problem.title, problem.status], ['about:blank', 'Bad Request', 400]);
      const fields = problem.errors.map((error: { in: string; field: string }) => `${error.in}.${error.field}`);
      assert.equal(fields, ['params.id', 'query.draft', 'body.title', 'body.tags']);
      assert.equal(problem.errors.map((error: { pointer: string }) => error.pointer), ['#/id', '#/draft', '#/title', '#/tags']);
      for (const error of problem.errors) assert.ok(typeof error.detail === 'string' && error.detail.length > 0, `a rule for ${error.field}`);
      assert.match(problem.detail, /body\.title/);
      assert.is(ran, 0, 'the handler never ran');
      const missing = await client.post('/notes/1', { headers: JSON_CLIENT });
      assert.is(missing.status, 400, 'no body at all');
      assert.equal(missing.json().errors.map((error: { in: string; field: string }) => [error.in, error.field]), [['body', '']]);
    });
  });

  test('invalid input: a browser gets the error page (public/400.html), others the message naming each field', async () => {
    const dir = siteDir({ 'public/400.html': '<h1>Bad request page</h1>' });
    try {
      await withClient(notesApp(schemas, undefined, dir), async client => {
        const page = await client.post('/notes/x', { json: { title: 'ok' }, headers: { accept: 'text/html' } });
        assert.equal([page.status, page.text], [400, '<h1>Bad request page</h1>']);
      });
      await withClient(notesApp(schemas), async client => {
        const text = await client.post('/notes/x', { json: { title: 1 }, headers: { accept: 'text/plain' } });
        assert.is(text.status, 400);
        assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
        assert.match(text.text, /^Invalid input: params\.id: .+; body\.title: .+/);
      });
    } finally {
      removeDir(dir);
    }
  });

  test('invalid input costs no session work: no store call, not even the CSRF token check; valid input then meets that check', async () => {
    const engine = new CountingEngine();
    await withClient(notesApp(schemas, engine), async client => {
      await client.post('/notes/1', { json: { title: 'first' } });
      const calls = storeCalls(engine);
      assert.ok(calls > 0, 'the valid request stored its session');
      const bad = await client.put('/notes/0', { json: { title: '' }, headers: JSON_CLIENT });
      assert.is(bad.status, 400, 'invalid input is a 400 before the CSRF check would be a 403');
      assert.is(storeCalls(engine), calls, 'no store call for invalid input');
      const unchecked = await client.put('/notes/1', { json: { title: 'ok' } });
      assert.is(unchecked.status, 403, 'valid input without a token meets the CSRF check');
    });
  });

  test.run();
}

const options = suite('route validation :: options');

options('a schema that is not a Standard Schema is a TypeError when the route is added, naming the route and option', () => {
  const app = createApp({ log: 'none' });
  for (const bad of [{ body: { parse() {} } }, { query: 'string' }, { params: null }]) {
    assert.throws(() => app.post('/x', bad as never, () => 'x'), (error: unknown) => error instanceof TypeError && /The route \/x: options\.(body|query|params) must be a Standard Schema/.test(error.message), JSON.stringify(bad));
  }
});

options('an asynchronous schema is awaited; a schema library that throws is a 500, not a 400', async () => {
  const app = createApp({ log: 'none' });
  const slowId = z.object({ id: z.string().refine(async id => id !== 'taken', 'is taken') });
  app.get('/users/:id', { params: slowId }, ctx => ctx.valid.params.id);
  const broken = { '~standard': { version: 1 as const, vendor: 'broken', validate: () => { throw new Error('library bug'); } } };
  app.get('/broken', { query: broken }, () => 'never');
  await withClient(app, async client => {
    assert.is((await client.get('/users/ann')).text, 'ann');
    const taken = await client.get('/users/taken', { headers: JSON_CLIENT });
    assert.equal([taken.status, taken.json().errors[0].detail], [400, 'is taken']);
    assert.is((await client.get('/broken')).status, 500);
  });
});

options('pass() to a route without schemas :: that route sees no values of the one before (ctx.valid is its own)', async () => {
  const app = createApp({ log: 'none' });
  app.get('/items/:id', { params: z.object({ id: z.coerce.number() }) }, ctx => (ctx.valid.params.id > 100 ? ctx.pass() : 'small'));
  app.get('/items/:id', ctx => JSON.stringify(ctx.valid));
  await withClient(app, async client => {
    assert.is((await client.get('/items/5')).text, 'small');
    assert.is((await client.get('/items/500')).text, '{}', 'the second route declared no schema');
  });
});

options.run();

// Types: `ctx.valid` is each schema's output; what no schema declares is not there.
export function typeChecks(app: App): void {
  app.post('/notes/:id', { params: LIBRARIES.zod.params, body: LIBRARIES.zod.body }, ctx => {
    const id: number = ctx.valid.params.id;
    const title: string = ctx.valid.body.title;
    const tags: string[] = ctx.valid.body.tags;
    // @ts-expect-error the id is a number once parsed
    const asText: string = ctx.valid.params.id;
    // @ts-expect-error no query schema: no ctx.valid.query
    void ctx.valid.query;
    // @ts-expect-error a field the schema lacks
    void ctx.valid.body.author;
    const raw: string = ctx.params.id; // the pattern's params stay strings
    return [id, title, tags, asText, raw];
  });
  app.get('/v/:id', { query: LIBRARIES.valibot.query }, ctx => {
    const draft: 'yes' | 'no' | undefined = ctx.valid.query.draft;
    // @ts-expect-error valibot's output type too: not any string
    const other: 'maybe' = ctx.valid.query.draft;
    return [draft, other];
  });
  app.get('/none', ctx => {
    // @ts-expect-error a route without schemas has nothing in ctx.valid
    void ctx.valid.body;
  });
  const handler = (ctx: Context<{ id: string }, { params: { id: number } }>) => ctx.valid.params.id + 1;
  app.get('/typed/:id', { params: LIBRARIES.zod.params }, handler);
}
