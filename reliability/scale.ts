/**
 * "Scale on paper" for RELIABILITY.md: what one app core and one Redis shard carry, from the
 * CPU per request `npm run bench` measured (bench/results.md, Node 26's rows first) and the
 * Redis CPU per command this run measured, and what N app servers on a Cluster of M masters
 * carry. Every assumption is written next to the figure it feeds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface BenchRow { cpuMicros: number | undefined; rps: number; commands: number; busy: number | undefined }

/** The rows of every markdown table in `text`, as header -> cell, keyed by their first cell. */
function tableRows(text: string): Map<string, Record<string, string>> {
  const rows = new Map<string, Record<string, string>>();
  let header: string[] | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) { header = undefined; continue; }
    const cells = line.split('|').slice(1, -1).map(c => c.trim());
    if (!header) { header = cells; continue; }
    if (cells.every(c => /^-*:?-*:?$/.test(c))) continue;
    rows.set(cells[0]!, Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

const number = (cell: string | undefined) => Number((cell ?? '').replace(/,/g, '').split(' ')[0]);

/** A bench row by scenario name: Node 26's first (the headline runtime), then Node 24's, then the older labels. */
function benchRow(rows: Map<string, Record<string, string>>, scenario: string): { label: string; row: BenchRow } | undefined {
  for (const label of ['Node 26', 'Node 24', 'Node 22', 'Node 20', '']) {
    const cells = rows.get(label ? `${label} ${scenario}` : scenario);
    if (!cells) continue;
    const cpu = number(cells['CPU µs/req']);
    const busy = /^(\d+)%/.exec(cells['server / load core busy'] ?? '')?.[1];
    return { label: label || 'the bench\'s Node', row: { cpuMicros: Number.isFinite(cpu) && cpu > 0 ? cpu : undefined, rps: number(cells['req/s (median)']), commands: number(cells['Redis cmds/req']), busy: busy ? Number(busy) / 100 : undefined } };
  }
  return undefined;
}

/** µs of app CPU per request: measured, or (older bench files) one busy core's time over req/s. */
function microsOf(row: BenchRow): number {
  return row.cpuMicros ?? ((row.busy ?? 1) * 1e6) / row.rps;
}

/**
 * The section's lines. `redisMicrosPerCommand` is Redis's own CPU (user + system, INFO cpu) over
 * the commands it ran (INFO commandstats, script calls and the commands inside them), measured
 * in this run; undefined when it was not.
 */
export function scaleOnPaper(root: string, redisMicrosPerCommand: number | undefined): string[] {
  const file = join(root, 'bench', 'results.md');
  if (!existsSync(file)) return ['No bench/results.md (run `npm run bench`): no measured CPU per request, so no figure here.'];
  const text = readFileSync(file, 'utf8');
  const rows = tableRows(text);
  const read = benchRow(rows, 'Quickstep Redis read');
  const write = benchRow(rows, 'Quickstep Redis write');
  const header = /^- date: ([^;\n]*)(?:; Quickstep commit: (\w+))?/m.exec(text);
  const source = `bench/results.md of ${header?.[1] ?? '(no date)'}${header?.[2] ? `, commit ${header[2]}` : ''}`;
  if (!read || !write) return [`${source} has no "Quickstep Redis read/write" rows: no figure.`];
  const rMicros = microsOf(read.row), wMicros = microsOf(write.row);
  const rCore = 1e6 / rMicros, wCore = 1e6 / wMicros;
  // Measured here when possible; else the usual figure for one Redis core on simple commands.
  const perCommand = redisMicrosPerCommand ?? 10;
  const measured = redisMicrosPerCommand !== undefined;
  const rShard = 1e6 / (perCommand * read.row.commands), wShard = 1e6 / (perCommand * write.row.commands);
  const mixCore = 2 / (1 / rCore + 1 / wCore), mixShard = 2 / (1 / rShard + 1 / wShard);
  const how = (row: BenchRow) => (row.cpuMicros === undefined ? 'derived: one busy core / req/s, this bench file has no CPU column' : 'the server process\'s CPU time / requests');
  const out = [
    `From ${source} (${read.label}): a Quickstep Redis session read costs ${rMicros.toFixed(0)} µs of app CPU (${how(read.row)}) and ${read.row.commands} Redis commands; a write ${wMicros.toFixed(0)} µs and ${write.row.commands} commands.`,
    measured
      ? `Redis CPU per command, measured in this run during the login flood (INFO cpu over INFO commandstats): ${perCommand.toFixed(1)} µs. At that load Redis batches little, so a saturated shard does better: a conservative figure.`
      : `Redis CPU per command: not measured in this run; assumed ${perCommand} µs (about 100,000 simple commands/s on one core).`,
    '',
    `- per app core (one Node process): ${Math.round(rCore).toLocaleString('en')} session reads/s or ${Math.round(wCore).toLocaleString('en')} session writes/s; ${Math.round(mixCore).toLocaleString('en')}/s for a 50/50 mix.`,
    `- per Redis shard (one master, one core): ${Math.round(rShard).toLocaleString('en')} reads/s or ${Math.round(wShard).toLocaleString('en')} writes/s; ${Math.round(mixShard).toLocaleString('en')}/s for a 50/50 mix.`,
    '',
    'Sessions per second, 50/50 reads and writes, N app servers of 2 cores each (one process per core) on a Cluster of M masters: min(N × 2 × per core, M × per shard).',
    'Assumptions: the app CPU per request is what the bench measured for its small session (a larger one costs more: see the bench\'s session-size table); random ids spread sessions evenly over the slots; replicas take no reads; the network, the load balancer and the handlers\' own work are not the limit; AOF `appendfsync always` costs Redis fsyncs that this CPU figure does not include unless measured with it.',
    '',
    '| N app servers | M = 1 | M = 3 | M = 6 | M = 12 |',
    '|---|---|---|---|---|',
  ];
  for (const N of [1, 2, 4, 8, 16, 32]) {
    out.push(`| ${N} | ${[1, 3, 6, 12].map(M => Math.round(Math.min(N * 2 * mixCore, M * mixShard)).toLocaleString('en')).join(' | ')} |`);
  }
  out.push('', 'Rerun `npm run bench` on the target machine before quoting these: the bench file in the tree may come from a noisy shared machine.');
  return out;
}
