/**
 * The soak's plot, plain SVG text: one panel per sampled series (RSS, V8 heap used, open file
 * descriptors, active handles), one line per app server, the Redis restart as a red line, the
 * fitted window shaded and each server's least-squares line over it dashed.
 */
import { fit, FIT_FROM, METRICS, type SoakResult } from './soak.ts';

const COLOURS = ['#1b3f73', '#d9822b'];
const W = 460, H = 230, LEFT = 58, TOP = 36, PLOT_W = W - LEFT - 16, PLOT_H = H - TOP - 36;
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step for about `count` ticks over `span`. */
function tickStep(span: number, count: number): number {
  const raw = span / count || 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map(m => m * power).find(step => step >= raw) ?? raw;
}

export function soakSvg(result: SoakResult, title: string): string {
  const runMinutes = result.minutes;
  const out: string[] = [];
  const width = 2 * W, height = 2 * H + 80;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`);
  for (const [s, colour] of COLOURS.entries()) out.push(`<rect x="${12 + s * 90}" y="30" width="12" height="12" fill="${colour}"/><text x="${28 + s * 90}" y="40">server ${s + 1}</text>`);
  out.push(`<line x1="192" x2="208" y1="36" y2="36" stroke="#c33"/><text x="212" y="40" fill="#c33">Redis restart</text>`);
  for (const [p, metric] of METRICS.entries()) {
    const x0 = (p % 2) * W, y0 = 50 + Math.floor(p / 2) * H;
    const values = result.samples.flatMap(sample => sample.servers.map(m => m[metric.key] / metric.scale)).filter(Number.isFinite);
    let lo = Math.min(...values), hi = Math.max(...values);
    if (!values.length) { lo = 0; hi = 1; }
    const pad = (hi - lo) * 0.1 || Math.max(1, hi * 0.05);
    lo = Math.max(0, lo - pad); hi += pad;
    const x = (minutes: number) => x0 + LEFT + (minutes / runMinutes) * PLOT_W;
    const y = (value: number) => y0 + TOP + PLOT_H - ((value - lo) / (hi - lo)) * PLOT_H;
    out.push(`<text x="${x0 + LEFT}" y="${y0 + 22}" font-size="12" font-weight="bold">${escape(metric.label)}${metric.unit ? ` (${metric.unit})` : ''}</text>`,
      `<rect x="${x(FIT_FROM * runMinutes)}" y="${y0 + TOP}" width="${x(runMinutes) - x(FIT_FROM * runMinutes)}" height="${PLOT_H}" fill="#f2f2f2"/>`);
    const yStep = tickStep(hi - lo, 4);
    for (let tick = Math.ceil(lo / yStep) * yStep; tick <= hi; tick += yStep) {
      out.push(`<line x1="${x0 + LEFT}" x2="${x0 + LEFT + PLOT_W}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>`,
        `<text x="${x0 + LEFT - 4}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${Number(tick.toPrecision(6))}</text>`);
    }
    const xStep = tickStep(runMinutes, 6);
    for (let tick = 0; tick <= runMinutes + 1e-9; tick += xStep) {
      out.push(`<text x="${x(tick)}" y="${y0 + TOP + PLOT_H + 14}" text-anchor="middle" fill="#555">${Number(tick.toPrecision(6))}</text>`);
    }
    out.push(`<text x="${x0 + LEFT + PLOT_W / 2}" y="${y0 + TOP + PLOT_H + 28}" text-anchor="middle" fill="#555">minutes</text>`,
      `<line x1="${x(result.restartAtSeconds / 60)}" x2="${x(result.restartAtSeconds / 60)}" y1="${y0 + TOP}" y2="${y0 + TOP + PLOT_H}" stroke="#c33"/>`,
      `<rect x="${x0 + LEFT}" y="${y0 + TOP}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`);
    for (const [s, colour] of COLOURS.entries()) {
      const points = result.samples.map(sample => [sample.t / 60, sample.servers[s]?.[metric.key] ?? NaN] as const).filter(([, v]) => Number.isFinite(v));
      if (!points.length) continue;
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.map(([t, v]) => `${x(t).toFixed(1)},${y(v / metric.scale).toFixed(1)}`).join(' ')}"/>`);
      const window = points.filter(([t]) => t >= FIT_FROM * runMinutes);
      if (window.length < 2) continue;
      const line = fit(window.map(([t]) => t), window.map(([, v]) => v / metric.scale));
      const [t1, t2] = [window[0]![0], window[window.length - 1]![0]];
      out.push(`<line x1="${x(t1)}" x2="${x(t2)}" y1="${y(line.intercept + line.slope * t1)}" y2="${y(line.intercept + line.slope * t2)}" stroke="${colour}" stroke-dasharray="6 3" stroke-width="1"/>`);
    }
  }
  out.push(`<text x="12" y="${height - 10}" fill="#555">${escape(`Shaded: the fitted window (the second half of the run); dashed: each server's least-squares line over it. Sampled every ${result.samples.length > 1 ? Math.round(result.samples[1]!.t - result.samples[0]!.t) : 10} s.`)}</text>`, '</svg>');
  return out.join('\n') + '\n';
}
