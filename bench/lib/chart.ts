/**
 * The SVG bar chart of the first runtime's (Node 26's) ratios by CPU per request: one group per framework, one bar
 * per route (untouched / read / write), a line at 1.0x (the hand-written baseline). Plain SVG
 * text, no dependency. A skipped scenario is drawn as a "skipped" label, not left out.
 */
import type { Route } from '../scenarios.ts';

export interface Bar { label: string; route: Route; ratio: number | undefined }

const COLOURS: Record<Route, string> = { untouched: '#8fb8de', read: '#3a7dc1', write: '#1b3f73' };
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chart(bars: Bar[], title: string, subtitle: string): string {
  // Quickstep's groups first, then the peers in the order the scenarios list them.
  const seen = [...new Set(bars.map(b => b.label))];
  const labels = [...seen.filter(l => l.startsWith('Quickstep')), ...seen.filter(l => !l.startsWith('Quickstep'))];
  const routes: Route[] = ['untouched', 'read', 'write'];
  const bar = 26;
  const gap = 34;
  const group = bar * routes.length + gap;
  const left = 56;
  const top = 64;
  const plot = 300;
  const width = Math.max(820, left + labels.length * group + 20);
  const height = top + plot + 84;
  const max = Math.max(1.2, ...bars.map(b => b.ratio ?? 0).filter(r => Number.isFinite(r))) * 1.08;
  const y = (ratio: number): number => top + plot - (ratio / max) * plot;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="${left}" y="40" fill="#555">${escape(subtitle)}</text>`,
  ];
  for (const [i, route] of routes.entries()) {
    const x = width - 400 + i * 90;
    out.push(`<rect x="${x}" y="48" width="12" height="12" fill="${COLOURS[route]}"/><text x="${x + 16}" y="58">${route}</text>`);
  }
  out.push(`<line x1="${width - 130}" x2="${width - 106}" y1="54" y2="54" stroke="#c33" stroke-dasharray="5 3"/>`,
    `<text x="${width - 100}" y="58" fill="#c33">baseline = 1.0x</text>`);
  const step = max > 3 ? 1 : 0.25;
  for (let tick = 0; tick <= max; tick += step) {
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(tick)}" y2="${y(tick)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${tick.toFixed(2)}x</text>`);
  }
  for (const [g, label] of labels.entries()) {
    const x0 = left + g * group + gap / 2;
    for (const [r, route] of routes.entries()) {
      const value = bars.find(b => b.label === label && b.route === route)?.ratio;
      const x = x0 + r * bar;
      if (value === undefined || Number.isNaN(value)) {
        out.push(`<text x="${x + bar / 2}" y="${y(0) - 6}" transform="rotate(-90 ${x + bar / 2} ${y(0) - 6})" fill="#999">skipped</text>`);
        continue;
      }
      out.push(`<rect x="${x + 2}" y="${y(value)}" width="${bar - 4}" height="${y(0) - y(value)}" fill="${COLOURS[route]}"><title>${escape(`${label} ${route}: ${value.toFixed(2)}x`)}</title></rect>`,
        `<text x="${x + bar / 2}" y="${y(value) - 4}" text-anchor="middle" font-size="10">${value.toFixed(2)}</text>`);
    }
    // "Quickstep Memory" as two lines, so long names do not run into the next group.
    const [head, ...rest] = label.split(' ');
    const cx = x0 + (bar * routes.length) / 2;
    out.push(`<text x="${cx}" y="${top + plot + 18}" text-anchor="middle">${escape(head ?? '')}${rest.length ? `<tspan x="${cx}" dy="14">${escape(rest.join(' '))}</tspan>` : ''}</text>`);
  }
  out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(1)}" y2="${y(1)}" stroke="#c33" stroke-dasharray="5 3"/>`,
    `<line x1="${left}" x2="${width - 10}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`,
    `<text x="${left}" y="${height - 30}" fill="#555">Ratio = baseline CPU µs per request ÷ this CPU µs per request: higher is better, 1.0x = as cheap as hand-written.</text>`,
    `<text x="${left}" y="${height - 14}" fill="#555">untouched vs a bare node:http hello; read / write vs a hand-written node:http session on the same store (Map, ioredis, or an AES-256-GCM cookie).</text>`,
    '</svg>', '');
  return out.join('\n');
}
