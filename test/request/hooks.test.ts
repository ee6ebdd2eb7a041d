import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp } from '../../src/create-app.ts';
import { serve } from '../support/serve.ts';


const hooks = suite('hooks');

hooks('before and after :: registration order, around the route', () => {
  const order: string[] = [];
  return serve(app => {
    app.before(() => void order.push('before 1'));
    app.hook('before_request', async () => void order.push('before 2'));
    app.after(() => void order.push('after 1'));
    app.hook('after', () => void order.push('after 2'));
    app.get('/', () => void order.push('route'));
  }, async client => {
    await client.get('/');
    assert.equal(order, ['before 1', 'before 2', 'route', 'after 1', 'after 2']);
  });
});

hooks('before :: halt() ends the request; the route and after hooks do not run', () => {
  const ran: string[] = [];
  return serve(app => {
    app.before(ctx => (ctx.status(401), ctx.halt('login first')));
    app.after(() => void ran.push('after'));
    app.get('/', () => void ran.push('route'));
  }, async client => {
    const res = await client.get('/');
    assert.is(res.status, 401);
    assert.is(res.text, 'login first');
    assert.equal(ran, []);
  });
});

hooks('before :: redirect() skips the route; after hooks still run', () => {
  const ran: string[] = [];
  return serve(app => {
    app.before(ctx => (ctx.path === '/private' ? ctx.redirect('/login') : undefined));
    app.after(() => void ran.push('after'));
    app.get('/private', () => void ran.push('route'));
  }, async client => {
    const res = await client.get('/private');
    assert.is(res.status, 302);
    assert.is(res.headers.get('location'), '/login');
    assert.equal(ran, ['after']);
  });
});

hooks('after :: may change status, headers and body', () =>
  serve(app => {
    app.get('/', () => 'original');
    app.after(ctx => {
      ctx.status(203);
      ctx.header('x-after', 'yes');
      ctx.responseBody = `${String(ctx.responseBody)} + after`;
    });
  }, async client => {
    const res = await client.get('/');
    assert.is(res.status, 203);
    assert.is(res.headers.get('x-after'), 'yes');
    assert.is(res.text, 'original + after');
  }));

hooks('halt() in a route :: after hooks are skipped', () => {
  let afterRan = false;
  return serve(app => {
    app.get('/', ctx => ctx.halt({ stopped: true }));
    app.after(() => void (afterRan = true));
  }, async client => {
    assert.equal((await client.get('/')).json(), { stopped: true });
    assert.is(afterRan, false);
  });
});

hooks('unknown hook name :: throws at once, listing the known ones', () => {
  const app = createApp();
  assert.throws(() => app.hook('befor', () => {}), (e: Error) => e instanceof TypeError && /"befor".*before, after/.test(e.message));
  assert.throws(() => app.hook('before', 'nope' as never), TypeError);
});

hooks.run();
