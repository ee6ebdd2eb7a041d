/** The routes the owner-index tests drive (owners.test.ts, owners-unhappy.test.ts), on ctx methods. */
import type { App } from '../../src/index.ts';

/** Registers the routes on `app` and returns it. */
export function ownerRoutes(app: App): App {
  return app
    .post('/visit', async ctx => {
      await ctx.increment('visits');
      return 'ok';
    })
    .post('/login/:user', async ctx => {
      await ctx.session('user', ctx.params.user);
      await ctx.login(ctx.params.user);
      return 'ok';
    })
    // A login and another operation on the session in one request (a store that moves the
    // session at the flush moves it first: request-session.ts #store).
    .post('/login-and-list/:user', async ctx => {
      await ctx.login(ctx.params.user);
      return ctx.userSessions(ctx.params.user);
    })
    .post('/login-and-logout/:user', async ctx => {
      await ctx.session('user', ctx.params.user);
      await ctx.login(ctx.params.user);
      await ctx.logout();
      return 'ok';
    })
    .get('/me', async ctx => ({ user: (await ctx.session('user')) ?? null }))
    .get('/sessions/:user', ctx => ctx.userSessions(ctx.params.user))
    .post('/others-out/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { except: (await ctx.session()).id }) }))
    .post('/everywhere-out/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user) }))
    .post('/new-id', async ctx => {
      await ctx.changeSessionId();
      return 'ok';
    })
    .post('/clear', async ctx => {
      (await ctx.session()).clear();
      return 'ok';
    })
    .post('/remember', async ctx => {
      (await ctx.session()).remember(3600);
      return 'ok';
    })
    .post('/forget', async ctx => {
      (await ctx.session()).forget();
      return 'ok';
    })
    .post('/logout', async ctx => {
      await ctx.logout();
      return 'ok';
    })
    .post('/bad/login', ctx => ctx.login(42 as never))
    .post('/bad/userSessions', ctx => ctx.userSessions(''))
    .post('/bad/destroyUserSessions', ctx => ctx.destroyUserSessions(undefined as never));
}
