/** The audit's rows as the text table `quickstep audit` prints: id, level, outcome, evidence. */
import type { AuditResult } from './checks.ts';

/** A plain-text table, one line per requirement (the evidence last, unwrapped), and a summary line. */
export function formatTable(results: readonly AuditResult[]): string {
  const rows = [['id', 'level', 'outcome', 'requirement / evidence'], ...results.map(r => [r.id, `L${r.level}`, r.outcome.toUpperCase(), `${r.title}: ${r.evidence}`])];
  const widths = [0, 1, 2].map(column => Math.max(...rows.map(row => row[column]!.length)));
  const lines = rows.map(row => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  '));
  const count = (outcome: AuditResult['outcome']) => results.filter(r => r.outcome === outcome).length;
  return `${lines.join('\n')}\n\n${count('pass')} pass, ${count('fail')} fail, ${count('n/a')} n/a (OWASP ASVS 5.0)\n`;
}
