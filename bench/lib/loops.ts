/**
 * The measured loops, one per kind of operation. They are written out for
 * sync and async targets separately so each loop body is a plain call (no
 * await on a value that is not a promise in the sync case).
 */
import type { Target } from '../contenders/types';
import type { TrialDef, Workload } from '../trials/types';
import type { OpLoop } from './measure';
import { coinFlips, patternBytes, permutedPositions, randomPositions } from './rng';

/** How many random positions (and read/write choices) a trial cycles through. */
export const POSITIONS_COUNT = 1 << 16;

export interface Inputs {
  positions: Float64Array;
  reads: Uint8Array;
  /** What writes write. */
  src: Buffer;
  /** Where reads land. */
  dst: Buffer;
}

export function inputsFor(w: Workload, seed: number): Inputs {
  let positions: Float64Array;
  if (w.positions === 'random') positions = randomPositions(seed, POSITIONS_COUNT, w.fileBytes, w.opBytes);
  else if (w.positions === 'cycle') positions = permutedPositions(seed, w.fileBytes, w.opBytes);
  else positions = new Float64Array(1);
  return {
    positions,
    reads: coinFlips(seed, POSITIONS_COUNT, w.readShare ?? 0),
    src: patternBytes(seed + 1, w.opBytes),
    dst: Buffer.alloc(w.opBytes),
  };
}

export interface Loop extends OpLoop {
  /** The last position written or read (for the after-run check). */
  last(): number;
}

export function makeLoop(trial: TrialDef, w: Workload, t: Target, async: boolean, x: Inputs): Loop {
  const { positions: pos, reads, src, dst } = x;
  const n = pos.length;
  let i = 0;
  let last = -1;
  switch (trial.op) {
    case 'write':
      return {
        async, last: () => last,
        run: async
          ? async (k: number) => {
            for (let j = 0; j < k; j++) {
              await t.write(src, (last = pos[i]));
              if (++i === n) i = 0;
            }
          }
          : (k: number) => {
            for (let j = 0; j < k; j++) {
              t.write(src, (last = pos[i]));
              if (++i === n) i = 0;
            }
          },
      };
    case 'read':
      return {
        async, last: () => last,
        run: async
          ? async (k: number) => {
            for (let j = 0; j < k; j++) {
              await t.read(dst, (last = pos[i]));
              if (++i === n) i = 0;
            }
          }
          : (k: number) => {
            for (let j = 0; j < k; j++) {
              t.read(dst, (last = pos[i]));
              if (++i === n) i = 0;
            }
          },
      };
    case 'mix':
      return {
        async, last: () => last,
        run: async
          ? async (k: number) => {
            for (let j = 0; j < k; j++) {
              if (reads[i & (POSITIONS_COUNT - 1)] === 1) await t.read(dst, pos[i]);
              else await t.write(src, (last = pos[i]));
              if (++i === n) i = 0;
            }
          }
          : (k: number) => {
            for (let j = 0; j < k; j++) {
              if (reads[i & (POSITIONS_COUNT - 1)] === 1) t.read(dst, pos[i]);
              else t.write(src, (last = pos[i]));
              if (++i === n) i = 0;
            }
          },
      };
    case 'sequential': {
      const span = w.fileBytes - (w.fileBytes % w.opBytes);
      let at = 0;
      return {
        async, last: () => last,
        run: async
          ? async (k: number) => {
            for (let j = 0; j < k; j++) {
              await t.write(src, (last = at));
              at += src.length;
              if (at >= span) at = 0;
            }
          }
          : (k: number) => {
            for (let j = 0; j < k; j++) {
              t.write(src, (last = at));
              at += src.length;
              if (at >= span) at = 0;
            }
          },
      };
    }
    case 'append': {
      const limit = w.resetBytes ?? Infinity;
      let appended = 0;
      return {
        async, last: () => last,
        before: async (k: number) => {
          if (appended + k * src.length > limit) {
            await t.reset();
            appended = 0;
          }
        },
        run: async
          ? async (k: number) => {
            for (let j = 0; j < k; j++) await t.append(src);
            appended += k * src.length;
          }
          : (k: number) => {
            for (let j = 0; j < k; j++) t.append(src);
            appended += k * src.length;
          },
      };
    }
  }
}
