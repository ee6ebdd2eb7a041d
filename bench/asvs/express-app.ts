/**
 * The express + express-session login app the ASVS audit runs against: express-session's README
 * "User login" example as it stands (`resave: false, saveUninitialized: true`, the default
 * MemoryStore, `req.session.regenerate` at login, its logout logic), with what the README
 * recommends for HTTPS (`cookie.secure: true`) and its idle timeout (`cookie.maxAge` with
 * `rolling: true`, "to provide a quick timeout of the session data") set short. Nothing else:
 * no SameSite, no cookie name, no CSRF (express ships none), no cache headers: what a new app
 * that follows the README gets. Logout is a POST form, as the audit's other apps have it.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { certificate } from '../../test/support/certificate.ts';
import { IDLE_SECONDS, PEER_APP_HAS_NO_ACCOUNTS, PEER_DESCRIPTION, type AuditedApp, type Running } from './audited-app.ts';

declare module 'express-session' {
  interface SessionData { user?: string | null }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

export function expressLoginApp(): express.Express {
  const app = express();
  app.use(session({
    secret: 'keyboard cat',
    resave: false,
    saveUninitialized: true,
    rolling: true,
    cookie: { secure: true, maxAge: IDLE_SECONDS * 1000 },
  }));

  app.get('/', (req, res) => {
    if (req.session.user) {
      res.send(`hello, ${escapeHtml(req.session.user)}! <form action="/logout" method="post"><input type="submit" value="Logout"></form>`);
      return;
    }
    res.send('<form action="/login" method="post">Username: <input name="user"><br><input type="submit" value="Login"></form>');
  });

  app.post('/login', express.urlencoded({ extended: false }), (req, res, next) => {
    // regenerate the session, which is good practice to help guard against forms of session fixation
    req.session.regenerate(err => {
      if (err) return next(err);
      req.session.user = String(req.body?.user ?? '');
      // save the session before redirection to ensure page load does not happen before session is saved
      req.session.save(err => {
        if (err) return next(err);
        res.redirect('/');
      });
    });
  });

  app.post('/logout', (req, res, next) => {
    // clear the user from the session object and save, so that re-using the old session id does not have a logged in user
    req.session.user = null;
    req.session.save(err => {
      if (err) return next(err);
      req.session.regenerate(err => {
        if (err) return next(err);
        res.redirect('/');
      });
    });
  });

  app.get('/whoami', (req, res) => { res.json({ user: req.session.user ?? null }); });
  return app;
}

export const EXPRESS: AuditedApp = {
  name: 'express + express-session',
  source: 'bench/asvs/express-app.ts',
  packages: ['express', 'express-session'],
  choices: [
    'express-session\'s README "User login" example: `resave: false`, `saveUninitialized: true`, `req.session.regenerate` at login, its logout logic (user cleared, saved, then `regenerate`) behind a POST form',
    '`cookie.secure: true`, which the README calls recommended for an HTTPS site; served by node:https itself (no proxy, so no `trust proxy`)',
    `the README's quick timeout: \`cookie.maxAge\` ${IDLE_SECONDS} s with \`rolling: true\`; the default MemoryStore (which the README says is not for production, but it enforces the same expiry a production store does)`,
    'left at the defaults, as a new app gets them: the cookie name (`connect.sid`), no SameSite, no CSRF middleware (express has none built in), no cache or Clear-Site-Data headers',
  ],
  description: PEER_DESCRIPTION,
  notApplicable: {
    '7.3.2': 'express-session has no absolute lifetime: `cookie.maxAge` counts from the last response with `rolling`, and without it the store\'s expiry is still pushed back by every request (`store.touch`)',
    ...PEER_APP_HAS_NO_ACCOUNTS,
    '7.5.2': 'express-session keeps no index of a user\'s sessions (only `store.all()`, every session of every user, optional in a store): an app would have to build the page itself',
  },
  start: () => listen(expressLoginApp()),
};

async function listen(app: express.Express): Promise<Running> {
  const { key, cert } = certificate();
  const server = createServer({ key, cert }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    stop: () => new Promise<void>(resolve => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
