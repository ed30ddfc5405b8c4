/**
 * The probe's options: what a caller may pass, their defaults, and their
 * validation. Every error names the option (as the rest of riocache does).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { resolve } from 'node:path';
import { invalidType, invalidValue, outOfRange } from '../../errors';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkString, formatBytes, isPowerOfTwo, parseBytes } from '../../options';
import { memoryCgroup } from './cgroup';
import type { TargetKind } from './target';

export interface ProbeOptions {
  /** 'riocache': a scratch region read through cache.fs; 'os': the OS page cache, read with fs. Required. */
  target: TargetKind;
  /** riocache: the scratch region's size. Default '64MiB'. */
  size?: number | string;
  /** riocache: where to create the scratch region (must not exist; removed after). Default: /dev/shm. */
  region?: string;
  /** riocache: directory for the scratch backing file (sparse, removed after). Default: os.tmpdir(). */
  dir?: string;
  /** os: the file to read. Required for the os target. Use a file on a disk, not tmpfs. */
  file?: string;
  /** os: create or extend the file to the size the sweep needs. Default false. */
  create?: boolean;
  /** os: leave the kernel's read-ahead on (to see the pitfall; docs/probe.md). Default false. */
  readahead?: boolean;
  /** Bytes per block: a power of two, 512 B to 1 MiB (the os target: at least 4 KiB). Default 4096. */
  blockSize?: number | string;
  /** Smallest p swept, in bytes. Default: max / 256. */
  min?: number | string;
  /** Largest p swept, in bytes. Default: riocache 2 x size; os: the file's size, or 2 x the cgroup limit when creating. */
  max?: number | string;
  /** 'geometric' (p grows by a factor, the default) or 'linear' (p grows by a size). */
  scale?: 'geometric' | 'linear';
  /** Geometric: the factor (default 2). Linear: bytes added per step (default (max - min) / 16). */
  step?: number | string;
  /** Samples (fill pass + timed re-read) per p. Default 3. */
  passes?: number;
  /** Blocks whose re-read is timed in each sample. Default 1024. */
  sampleBlocks?: number;
  /** Refinement stops when (high - low) <= resolution x low. Default 0.01. */
  resolution?: number;
  /** The smallest slow/fast ratio taken as a knee. Default 2. */
  minRatio?: number;
}

export interface Settings {
  target: TargetKind;
  blockBytes: number;
  minBlocks: number;
  maxBlocks: number;
  scale: 'geometric' | 'linear';
  /** Geometric: a factor > 1. Linear: blocks per step. */
  step: number;
  passes: number;
  /** Samples a point may collect when it is re-measured. */
  passesMax: number;
  sampleBlocks: number;
  resolution: number;
  minRatio: number;
  riocache?: { regionBytes: number; region: string | null; dir: string };
  os?: { file: string; create: boolean; readahead: boolean };
}

export const BLOCK_BYTES_MIN = 512;
export const BLOCK_BYTES_MAX = 1024 * 1024;
export const OS_BLOCK_BYTES_MIN = 4096;
export const REGION_BYTES_MIN = 1024 * 1024;
export const PASSES_MAX = 100;
export const SAMPLE_BLOCKS_MIN = 16;
export const SAMPLE_BLOCKS_MAX = 65536;
/** Blocks a sweep may reach: keeps block numbers and file offsets far inside 2^53. */
export const SWEEP_BLOCKS_MAX = 2 ** 32;
/** Default min = max / this. */
const MIN_DIVISOR_DEFAULT = 256;
const LINEAR_STEPS_DEFAULT = 16;

const known: Record<TargetKind, string[]> = {
  riocache: ['size', 'region', 'dir'],
  os: ['file', 'create', 'readahead'],
};
const common = ['target', 'blockSize', 'min', 'max', 'scale', 'step', 'passes', 'sampleBlocks', 'resolution', 'minRatio'];

/** The size of the OS target's file, or null when it does not exist. */
function fileBytes(path: string): number | null {
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw invalidValue('file', 'must be a regular file', path);
    return st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Default max for the os target when creating: twice the memory the page cache can use. */
function osMaxDefault(): number {
  const cg = memoryCgroup();
  if (cg?.limitBytes) return 2 * cg.limitBytes;
  throw invalidValue('max', `is required for the os target when creating the file outside a memory-limited cgroup ` +
    `(the page cache may grow to the whole RAM, ${formatBytes(os.totalmem())} here)`, undefined);
}

export function validateProbeOptions(options: unknown): Settings {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const o = options as Record<string, unknown>;
  const target = checkOneOf('target', o.target, ['riocache', 'os'] as const);
  for (const key of Object.keys(o)) {
    if (o[key] === undefined || common.includes(key) || known[target].includes(key)) continue;
    const other = target === 'os' ? 'riocache' : 'os';
    throw invalidValue(key, known[other].includes(key) ? `applies to the ${other} target only` : 'is not a probe option', o[key]);
  }
  const blockBytes = o.blockSize === undefined ? 4096 : parseBytes('blockSize', o.blockSize);
  if (!isPowerOfTwo(blockBytes)) throw invalidValue('blockSize', 'must be a power of two', o.blockSize);
  const blockMin = target === 'os' ? OS_BLOCK_BYTES_MIN : BLOCK_BYTES_MIN;
  if (blockBytes < blockMin || blockBytes > BLOCK_BYTES_MAX) {
    throw outOfRange('blockSize', `>= ${blockMin} and <= ${BLOCK_BYTES_MAX}${target === 'os' ? ' (the os target reads whole pages)' : ''}`, o.blockSize);
  }
  const passes = o.passes === undefined ? 3 : checkInteger('passes', o.passes, 1, PASSES_MAX);
  const sampleBlocks = o.sampleBlocks === undefined ? 1024 : checkInteger('sampleBlocks', o.sampleBlocks, SAMPLE_BLOCKS_MIN, SAMPLE_BLOCKS_MAX);
  const resolution = o.resolution === undefined ? 0.01 : checkNumber('resolution', o.resolution, 0.0001, 0.5);
  const minRatio = o.minRatio === undefined ? 2 : checkNumber('minRatio', o.minRatio, 1.05, 1000);

  let riocache: Settings['riocache'];
  let osTarget: Settings['os'];
  let maxDefault: number;
  let maxFromFile: number | null = null;
  if (target === 'riocache') {
    const regionBytes = o.size === undefined ? 64 * 1024 * 1024 : parseBytes('size', o.size);
    if (regionBytes < REGION_BYTES_MIN) throw outOfRange('size', `>= ${formatBytes(REGION_BYTES_MIN)}`, o.size);
    const region = o.region === undefined ? null : resolve(checkString('region', o.region));
    if (region !== null && fs.existsSync(region)) {
      throw invalidValue('region', 'must not exist: the probe creates a scratch region there and removes it after', o.region);
    }
    const dir = resolve(o.dir === undefined ? os.tmpdir() : checkString('dir', o.dir));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw invalidValue('dir', 'must be an existing directory', o.dir);
    riocache = { regionBytes, region, dir };
    maxDefault = 2 * regionBytes;
  } else {
    if (o.file === undefined) throw invalidType('file', 'a path (the os target reads a file)', o.file);
    const file = resolve(checkString('file', o.file));
    const create = o.create === undefined ? false : checkBoolean('create', o.create);
    const readahead = o.readahead === undefined ? false : checkBoolean('readahead', o.readahead);
    const size = fileBytes(file);
    if (size === null && !create) throw invalidValue('file', 'does not exist (pass create to make it)', o.file);
    osTarget = { file, create, readahead };
    if (!create) maxFromFile = Math.floor((size ?? 0) / blockBytes) - sampleBlocks;
    maxDefault = create ? (o.max === undefined ? osMaxDefault() : 0) : Math.max(0, maxFromFile ?? 0) * blockBytes;
  }

  const maxBytes = o.max === undefined ? maxDefault : parseBytes('max', o.max);
  const maxBlocks = Math.floor(maxBytes / blockBytes);
  if (maxBlocks < 2 || maxBlocks > SWEEP_BLOCKS_MAX) {
    throw outOfRange('max', `at least 2 blocks and at most ${SWEEP_BLOCKS_MAX} blocks (${formatBytes(2 * blockBytes)} to ` +
      `${formatBytes(SWEEP_BLOCKS_MAX * blockBytes)})`, o.max ?? maxBytes);
  }
  if (maxFromFile !== null && maxBlocks > maxFromFile) {
    throw invalidValue('file', `is too short for max = ${formatBytes(maxBytes)}: the sweep reads ` +
      `${formatBytes((maxBlocks + sampleBlocks) * blockBytes)} (max plus ${sampleBlocks} calibration blocks); pass create, or a smaller max`, o.file);
  }
  const minBytes = o.min === undefined ? Math.max(blockBytes, Math.floor(maxBytes / MIN_DIVISOR_DEFAULT)) : parseBytes('min', o.min);
  const minBlocks = Math.ceil(minBytes / blockBytes);
  if (minBlocks < 1 || minBlocks >= maxBlocks) {
    throw outOfRange('min', `at least one block (${blockBytes} B) and below max (${formatBytes(maxBlocks * blockBytes)})`, o.min ?? minBytes);
  }

  const scale = o.scale === undefined ? 'geometric' : checkOneOf('scale', o.scale, ['geometric', 'linear'] as const);
  let step: number;
  if (scale === 'geometric') {
    const factor = typeof o.step === 'string' && o.step.trim() !== '' ? Number(o.step) : o.step;
    step = o.step === undefined ? 2 : checkNumber('step', factor, 1.01, 16);
  } else {
    const stepBytes = o.step === undefined ? Math.max(blockBytes, Math.floor((maxBlocks - minBlocks) * blockBytes / LINEAR_STEPS_DEFAULT))
      : parseBytes('step', o.step);
    step = Math.floor(stepBytes / blockBytes);
    if (step < 1) throw outOfRange('step', `at least one block (${blockBytes} B) for a linear sweep`, o.step);
  }
  return {
    target, blockBytes, minBlocks, maxBlocks, scale, step, passes, passesMax: Math.min(PASSES_MAX, 3 * passes),
    sampleBlocks, resolution, minRatio, riocache, os: osTarget,
  };
}
