/**
 * Loaded with `--import` by bench/profile.ts: SIGTERM (what lib/processes.ts's stop() sends)
 * ends the server with a normal exit, so `node --cpu-prof` writes its profile.
 */
process.on('SIGTERM', () => process.exit(0));
