/**
 * Deterministic inputs: every contender of a trial sees the same positions
 * and the same bytes, generated from one seed (mulberry32, the crash
 * campaign's generator).
 */
import { mulberry } from '../../src/tools/crashtest/random';

export const SEED_DEFAULT = 0x5eed_2024;

/** Bytes from the seed (the same for every contender). */
export function patternBytes(seed: number, length: number): Buffer {
  const next = mulberry(seed ^ 0xb17e5);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** `count` block-aligned byte positions, uniform over [0, spanBytes). */
export function randomPositions(seed: number, count: number, spanBytes: number, alignBytes: number): Float64Array {
  const next = mulberry(seed);
  const slots = Math.floor(spanBytes / alignBytes);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(next() * slots) * alignBytes;
  return out;
}

/** Every block of [0, spanBytes) once, in a seeded random order (Fisher–Yates). */
export function permutedPositions(seed: number, spanBytes: number, alignBytes: number): Float64Array {
  const next = mulberry(seed);
  const slots = Math.floor(spanBytes / alignBytes);
  const order = new Float64Array(slots);
  for (let i = 0; i < slots; i++) order[i] = i * alignBytes;
  for (let i = slots - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** A seeded choice per operation: 1 with probability `p`, else 0. */
export function coinFlips(seed: number, count: number, p: number): Uint8Array {
  const next = mulberry(seed ^ 0xc01);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = next() < p ? 1 : 0;
  return out;
}
