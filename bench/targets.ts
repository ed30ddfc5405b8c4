/**
 * The targets of ../shared/DESIGN.md ("Targets"), each tied to the trial and
 * contenders that measure it. A ratio target compares riocache with a peer
 * measured in the same run (per repetition, then the median of the ratios).
 */

export interface RatioTarget {
  kind: 'ratio';
  id: string;
  text: string;
  trial: string;
  rio: string;
  peer: string;
  /**
   * 'faster': peer time / riocache time >= factor (the median over repetitions);
   * 'within': riocache time / peer time <= factor (median);
   * 'everyRep': peer time / riocache time >= factor in every repetition.
   */
  need: 'faster' | 'within' | 'everyRep';
  factor: number;
}

export interface RecoveryTarget {
  kind: 'recovery';
  id: string;
  text: string;
  check: 'verify-rate' | 'clean-open' | 'linear';
}

export interface UnmeasuredTarget {
  kind: 'elsewhere';
  id: string;
  text: string;
  where: string;
}

export type Target = RatioTarget | RecoveryTarget | UnmeasuredTarget;

const WS = { big: '64 MiB file', hot: '4 MiB file (hot)' };

export const targets: Target[] = [
  ...(['big', 'hot'] as const).flatMap((ws): Target[] => {
    const sfx = ws === 'big' ? '' : '-hot';
    return [
      { kind: 'ratio', id: `overwrite-vs-fs${sfx}`, text: `4 KiB overwrite: cache.fs.writeSync ≥ 3× faster than fs.writeSync — ${WS[ws]}`,
        trial: `overwrite-4k${sfx}`, rio: 'rio.sync', peer: 'fs.sync', need: 'faster', factor: 3 },
      { kind: 'ratio', id: `overwrite-vs-floor${sfx}`,
        text: `4 KiB overwrite: within 1.5× of a bare copy plus crc32c of the same bytes — ${WS[ws]}`,
        trial: `overwrite-4k${sfx}`, rio: 'rio.sync', peer: 'floor+crc', need: 'within', factor: 1.5 },
    ];
  }),
  { kind: 'ratio', id: 'append-vs-fs', text: '100 B append: ≥ 10× faster than fs.writeSync',
    trial: 'append-100b', rio: 'rio.sync', peer: 'fs.sync', need: 'faster', factor: 10 },
  ...(['big', 'hot'] as const).flatMap((ws): Target[] => {
    const sfx = ws === 'big' ? '' : '-hot';
    return [
      { kind: 'ratio', id: `read-vs-fs${sfx}`, text: `4 KiB read hit: ≥ 3× faster than fs.readSync — ${WS[ws]}`,
        trial: `read-hit-4k${sfx}`, rio: 'rio.sync', peer: 'fs.sync', need: 'faster', factor: 3 },
      { kind: 'ratio', id: `read-vs-floor${sfx}`, text: `4 KiB read hit: within 1.5× of a bare copy — ${WS[ws]}`,
        trial: `read-hit-4k${sfx}`, rio: 'rio.sync', peer: 'floor', need: 'within', factor: 1.5 },
    ];
  }),
  // Under pressure (working set 4× the region): never slower than plain fs, in every repetition; bulk writes at least half its speed.
  ...([['read-miss-4k', '4 KiB read miss'], ['write-miss-4k', '4 KiB random overwrite'], ['mix-70-30', '70/30 mix']] as const)
    .flatMap(([trial, what]): Target[] => [
      { kind: 'ratio', id: `${trial}-vs-fs`, text: `${what}, working set 4× the region: readSync/writeSync ≥ 1.0× fs in every repetition`,
        trial, rio: 'rio.sync', peer: 'fs.sync', need: 'everyRep', factor: 1 },
      { kind: 'ratio', id: `${trial}-promise-vs-fs`, text: `${what}, working set 4× the region: FileHandle ≥ 1.0× fs.promises in every repetition`,
        trial, rio: 'rio.promise', peer: 'fs.promise', need: 'everyRep', factor: 1 },
    ]),
  ...([['sequential-4k', '4 KiB'], ['sequential-64k', '64 KiB']] as const).flatMap(([trial, what]): Target[] => [
    { kind: 'ratio', id: `${trial}-vs-fs`, text: `sequential ${what} writes of 4× the region: writeSync ≥ 0.5× fs.writeSync in every repetition`,
      trial, rio: 'rio.sync', peer: 'fs.sync', need: 'everyRep', factor: 0.5 },
    { kind: 'ratio', id: `${trial}-promise-vs-fs`, text: `sequential ${what} writes of 4× the region: FileHandle ≥ 0.5× fs.promises in every repetition`,
      trial, rio: 'rio.promise', peer: 'fs.promise', need: 'everyRep', factor: 0.5 },
  ]),
  { kind: 'recovery', id: 'verify-rate', text: 'Warm reboot verifies dirty data at ≥ 5 GB/s', check: 'verify-rate' },
  { kind: 'recovery', id: 'clean-open', text: 'A clean region opens in under 50 ms, whatever its size', check: 'clean-open' },
  { kind: 'recovery', id: 'recovery-linear', text: 'Recovery cost grows linearly with dirty bytes, not with region size', check: 'linear' },
  { kind: 'elsewhere', id: 'reliability', text: '0 lost / 0 torn writes over ≥ 10,000 SIGKILLs; 100% of injected corruptions caught',
    where: 'not a benchmark: the crash campaign and the corruption tests measure it' },
];

/** Thresholds for 'linear' (how this report reads "grows with dirty bytes, not region size"). */
export const LINEAR_R2_MIN = 0.95;
/** Extra recovery time per GiB of region at most this share of the time per dirty GiB. */
export const REGION_SHARE_MAX = 0.05;
/** Verify rate target, bytes per second. */
export const VERIFY_BYTES_PER_S_MIN = 5e9;
/** A clean open of any region size, milliseconds. */
export const CLEAN_OPEN_MS_MAX = 50;
