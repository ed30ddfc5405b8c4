/**
 * mulberry32: small, fast, deterministic; every campaign choice comes from it
 * so a seed replays. The one seeded generator of the repository: the
 * benchmarks' positions and bytes (bench/lib/rng.ts) and the tests' random
 * inputs (test/helpers.ts) come from it too, so changing it changes them all.
 */
export function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
