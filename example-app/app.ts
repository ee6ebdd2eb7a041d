/**
 * The example app's entry point (`npm start`): the routes on the default app, then `dance()`,
 * which reads config.yml from the current directory (port, session engine), prints the URL and
 * shuts down gracefully on SIGINT / SIGTERM.
 */
import { app, dance } from 'quickstep';
import { defineRoutes } from './routes.ts';

defineRoutes(app());
await dance();
