/**
 * The session id check of `npm run reliability`: `count` ids from SessionFactory.generateId,
 * counted for duplicates, for the uniformity of each of the 32 positions over the 64 symbols
 * (chi-square, 63 degrees of freedom), and for each of the 192 bits the ids carry (the share of
 * ones, as a z-score). A bit is a function of a symbol, so the bit counts come from the symbol
 * counts. P-values use the Wilson–Hilferty approximation of the chi-square distribution.
 */
import { SessionFactory } from '../src/session/factory.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const POSITIONS = 32;

function defaultGenerator(): () => string {
  const factory = Object.create(SessionFactory.prototype) as SessionFactory;
  return () => factory.generateId();
}

export interface IdsResult {
  count: number; duplicates: number; seconds: number;
  chiMin: number; chiMax: number; band: [number, number]; outside: number;
  chiTotal: number; totalDof: number; totalP: number;
  onesFraction: number; maxBitZ: number;
}

/** Standard normal upper tail. */
function upperTail(z: number): number {
  // Abramowitz & Stegun 7.1.26 on erfc, |error| < 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2, t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** P(X > x) for X chi-square with `k` degrees of freedom (Wilson–Hilferty). */
export function chiSquareP(x: number, k: number): number {
  return upperTail(((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / Math.sqrt(2 / (9 * k)));
}

/** Checks `count` ids of `generate` (default: the framework's own generator). */
export function idsCheck(count: number, generate: () => string = defaultGenerator()): IdsResult {
  const started = Date.now();
  const index = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) index[ALPHABET.charCodeAt(i)] = i;
  const seen = new Set<string>();
  const counts = new Float64Array(POSITIONS * 64);
  let malformed = 0;
  for (let i = 0; i < count; i++) {
    const id = generate();
    seen.add(id);
    if (id.length !== POSITIONS) malformed++;
    for (let p = 0; p < POSITIONS; p++) {
      const symbol = index[id.charCodeAt(p)]!;
      if (symbol < 0) malformed++; else counts[p * 64 + symbol]!++;
    }
  }
  if (malformed) throw new Error(`${malformed} ids or characters outside the 32-character base64url shape`);
  const expected = count / 64;
  const chi: number[] = [];
  let ones = 0, maxBitZ = 0;
  for (let p = 0; p < POSITIONS; p++) {
    let sum = 0;
    for (let s = 0; s < 64; s++) sum += (counts[p * 64 + s]! - expected) ** 2 / expected;
    chi.push(sum);
    for (let bit = 0; bit < 6; bit++) {
      let set = 0;
      for (let s = 0; s < 64; s++) if (s & (1 << bit)) set += counts[p * 64 + s]!;
      ones += set;
      maxBitZ = Math.max(maxBitZ, Math.abs(set - count / 2) / Math.sqrt(count / 4));
    }
  }
  // The 0.1% and 99.9% points of chi-square with 63 degrees of freedom.
  const band: [number, number] = [33.9, 103.4];
  const chiTotal = chi.reduce((a, b) => a + b, 0);
  return {
    count, duplicates: count - seen.size, seconds: (Date.now() - started) / 1000,
    chiMin: Math.min(...chi), chiMax: Math.max(...chi), band, outside: chi.filter(x => x < band[0] || x > band[1]).length,
    chiTotal, totalDof: POSITIONS * 63, totalP: chiSquareP(chiTotal, POSITIONS * 63),
    onesFraction: ones / (count * POSITIONS * 6), maxBitZ,
  };
}
