#!/usr/bin/env node
/**
 * The `quickstep` command (the package's bin): `quickstep new <dir>` makes a runnable app there,
 * as `dancer2 gen` does; `quickstep audit <url> --config audit.json` checks a running app against
 * the ASVS 5.0 session requirements (src/asvs/audit.ts) and prints the table, exiting 1 when a
 * row fails; `quickstep --version` prints the package's version. Usage errors exit 2 (an audit
 * whose description the app does not fit too), a refused folder exits 1.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audit } from '../asvs/audit.ts';
import type { AuditOptions } from '../asvs/flow.ts';
import { formatTable } from '../asvs/report.ts';
import { appFiles } from './app-files.ts';

const USAGE = `Usage: quickstep new <dir>    make a new app in <dir> (new, or empty)
       quickstep audit <url> --config <file.json>
                                 check the running app at <url> against OWASP ASVS 5.0's
                                 session requirements (the file describes its login, logout
                                 and logged-in page); exits 1 if a requirement fails
       quickstep --version       the version of Quickstep
       quickstep --help          this text`;

function main(args: string[]): number | Promise<number> {
  if (args[0] === 'audit') return auditCommand(args.slice(1));
  if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    console.log(ownVersion());
    return 0;
  }
  if (args[0] !== 'new') {
    console.error(args.length === 0 ? USAGE : `quickstep: unknown command "${args.join(' ')}"\n${USAGE}`);
    return 2;
  }
  if (args.length === 1) {
    console.error(`quickstep new: name the folder to make the app in, e.g. quickstep new my-app\n${USAGE}`);
    return 2;
  }
  if (args.length > 2) {
    // Most often a name with spaces the shell split: say how to keep it one word.
    const rest = args.slice(1);
    console.error(`quickstep new takes one folder, got ${rest.length}: ${rest.join(' ')} (quote a name with spaces: quickstep new ${shellWord(rest.join(' '))})\n${USAGE}`);
    return 2;
  }
  const dir = resolve(args[1]!);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    console.error(`quickstep new: ${dir} is not empty; choose a new folder (nothing was written)`);
    return 1;
  }
  const name = packageName(basename(dir));
  for (const [path, text] of Object.entries(appFiles(name, ownVersion()))) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const shown = relative(process.cwd(), dir) || '.';
  console.log(`Made ${name} in ${shown}. Next:\n  cd ${shellWord(shown)}\n  npm install\n  npm start     # http://127.0.0.1:3000\n  npm test`);
  return 0;
}

/** `quickstep audit <url> --config <file>`: the table on stdout; 1 when a row fails, 2 for a usage or description error. */
async function auditCommand(args: string[]): Promise<number> {
  const at = args.indexOf('--config');
  const file = at < 0 ? undefined : args[at + 1];
  const rest = at < 0 ? args : args.filter((_, i) => i !== at && i !== at + 1);
  if (rest.length !== 1 || file === undefined) {
    console.error(`quickstep audit: give the app's URL and its description, e.g. quickstep audit http://127.0.0.1:3000 --config audit.json\n${USAGE}`);
    return 2;
  }
  let options: AuditOptions;
  try {
    options = JSON.parse(readFileSync(file, 'utf8')) as AuditOptions;
    // A certificate to trust is given by its file, relative to the config file.
    const ca = (options.tls as { ca?: unknown } | undefined)?.ca;
    if (typeof ca === 'string' && !ca.includes('-----BEGIN')) options.tls = { ...options.tls, ca: readFileSync(resolve(dirname(file), ca), 'utf8') };
  } catch (error) {
    console.error(`quickstep audit: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  try {
    const rows = await audit(rest[0]!, options);
    process.stdout.write(formatTable(rows));
    return rows.some(row => row.outcome === 'fail') ? 1 : 0;
  } catch (error) {
    console.error(`quickstep audit: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

/** The folder's name as an npm package name: lower case, URL-safe, not starting with . or _. */
export function packageName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214);
  return name || 'my-app';
}

/**
 * `text` as one word of a POSIX shell, for the lines a user pastes: as it is when it holds only
 * characters no shell treats specially, else in single quotes (inside which only `'` itself needs
 * care: it closes the quotes, is escaped, and they reopen: `'\''`).
 */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_./@%+=:,-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Quickstep's own version, for `--version` and the new app's dependency. */
function ownVersion(): string {
  const manifest = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Whether this module is the program being run (the bin, through its symlink), not an import. */
function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
