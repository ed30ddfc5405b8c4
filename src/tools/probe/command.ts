/** `riocache probe --target riocache|os …`: the probe on the command line. */
import * as fs from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { renameOption } from '../flags';
import { formatBytes } from '../../options';
import { progressBar } from '../term';
import type { ProbeOptions } from './options';
import { probe, type ProbeProgress } from './probe';
import { formatReport, renderSvg } from './report';

/** Exit codes besides thrown errors (which the dispatcher reports): 0 knee found, 2 no knee in [min, max]. */
export const EXIT_NO_KNEE = 2;

interface Flags {
  target: 'riocache' | 'os';
  size?: string;
  region?: string;
  dir?: string;
  file?: string;
  create?: boolean;
  readahead?: boolean;
  blockSize?: string;
  min?: string;
  max?: string;
  scale?: 'geometric' | 'linear';
  step?: string;
  passes?: number;
  sample?: number;
  resolution?: number;
  minRatio?: number;
  svg?: string;
  json?: boolean;
}

/** Library option name -> the flag a user typed, so that errors name what the user can fix. */
const flagOf: Record<string, string> = {
  target: '--target', size: '--size', region: '--region', dir: '--dir', file: '--file', create: '--create',
  readahead: '--readahead', blockSize: '--block-size', min: '--min', max: '--max', scale: '--scale', step: '--step',
  passes: '--passes', sampleBlocks: '--sample', resolution: '--resolution', minRatio: '--min-ratio',
};

function integer(flag: string) {
  return (value: string): number => {
    if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`${flag} must be a positive integer.`);
    return Number(value);
  };
}

function decimal(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} must be a number.`);
    return n;
  };
}

export function toProbeOptions(f: Flags): ProbeOptions {
  const o: ProbeOptions = {
    target: f.target, size: f.size, region: f.region, dir: f.dir, file: f.file, create: f.create, readahead: f.readahead,
    blockSize: f.blockSize, min: f.min, max: f.max, scale: f.scale, step: f.step, passes: f.passes, sampleBlocks: f.sample,
    resolution: f.resolution, minRatio: f.minRatio,
  };
  for (const key of Object.keys(o) as Array<keyof ProbeOptions>) if (o[key] === undefined) delete o[key];
  return o;
}

function describe(p: ProbeProgress): string {
  if (p.phase === 'create') return `creating the file: ${formatBytes(p.done)} of ${formatBytes(p.total)}`;
  if (p.phase === 'calibrate') return 'warming up, calibrating hit and miss';
  const size = (blocks: number) => formatBytes(blocks * p.blockBytes);
  const bracket = p.low !== null && p.high !== null ? `, knee in [${size(p.low)}, ${size(p.high)}]` : '';
  return `${p.phase} p=${size(p.blocks)}${bracket}`;
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('measure the size of a cache (a scratch riocache region, or the OS page cache) by timing LRU re-reads')
    .addOption(new Option('--target <target>', 'the cache to measure').choices(['riocache', 'os']).makeOptionMandatory())
    .option('--size <bytes>', 'riocache: size of the scratch region (default 64MiB)')
    .option('--region <path>', 'riocache: where to create the scratch region; must not exist (default: /dev/shm)')
    .option('--dir <path>', 'riocache: directory for the sparse scratch file (default: the system temp directory)')
    .option('--file <path>', 'os: the file to read; on a disk, not tmpfs')
    .option('--create', 'os: create or extend --file to the size the sweep needs')
    .option('--readahead', "os: leave the kernel's read-ahead on (to see the pitfall)")
    .option('--block-size <bytes>', 'bytes per block (default 4096)')
    .option('--min <bytes>', 'smallest p, in bytes (default max/256)')
    .option('--max <bytes>', 'largest p, in bytes (default riocache 2 x --size; os: the file size, or 2 x the cgroup limit with --create)')
    .addOption(new Option('--scale <scale>', 'how p grows (default geometric)').choices(['geometric', 'linear']))
    .option('--step <step>', 'geometric: the factor (default 2); linear: a size added per step (default (max-min)/16)')
    .option('--passes <n>', 'samples per p, each a fill pass and a timed re-read (default 3)', integer('--passes'))
    .option('--sample <blocks>', 'blocks timed in each re-read (default 1024)', integer('--sample'))
    .option('--resolution <ratio>', 'refine until (high - low) <= ratio x low (default 0.01)', decimal('--resolution'))
    .option('--min-ratio <ratio>', 'smallest slow/fast ratio taken as a knee (default 2)', decimal('--min-ratio'))
    .option('--svg <file>', 'write the curve, knee marked, as an SVG file')
    .option('--json', 'print one JSON object (no progress, no table)')
    .addHelpText('after', [
      '',
      'Examples:',
      '  riocache probe --target riocache --size 256MiB --svg probe.svg',
      '  riocache probe --target os --file /var/tmp/probe.dat --create --max 1GiB',
      '',
      `Exit codes: 0 knee found, ${EXIT_NO_KNEE} no knee between --min and --max; errors are reported by the dispatcher.`,
      'The method and its pitfalls: docs/probe.md.',
    ].join('\n'))
    .action(async (flags: Flags) => {
      const bar = progressBar('probe', !flags.json && process.stderr.isTTY === true);
      let result;
      try {
        result = await probe(toProbeOptions(flags), (p) => bar.update(p.done, p.total, describe(p)));
      } catch (err) {
        bar.done();
        throw renameOption(err, flagOf);
      }
      bar.done(result.found ? `knee at ${formatBytes(result.estimateBytes!)}` : 'no knee found');
      if (flags.svg) fs.writeFileSync(flags.svg, renderSvg(result));
      if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(formatReport(result) + (flags.svg ? `\n\nSVG written to ${flags.svg}\n` : '\n'));
      process.exitCode = result.found ? 0 : EXIT_NO_KNEE;
    });
}
