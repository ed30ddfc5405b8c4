/**
 * The configuration of `riocache/register`, read from the environment: the
 * options of openCache (src/cache/open.ts), one variable each, validated by
 * validateOptions at startup so that a bad value is an error naming its
 * variable before the application runs a line.
 */
import { RioError } from '../errors';
import { type CacheOptions, validateOptions } from '../cache/open';
import { checkInteger } from '../options';

/** Each variable and the openCache option it sets. */
export const ENV_OPTIONS = {
  RIOCACHE_ROOT: 'root',
  RIOCACHE_REGION: 'region',
  RIOCACHE_SIZE: 'size',
  RIOCACHE_BLOCK_SIZE: 'blockSize',
  RIOCACHE_MAX_FILES: 'maxFiles',
  RIOCACHE_UNDO_SIZE: 'undoSize',
  RIOCACHE_SEGMENT_AREA_SIZE: 'segmentAreaSize',
  RIOCACHE_FSYNC: 'fsync',
  RIOCACHE_KEEP_CLEAN_BUFFERS: 'keepCleanBuffers',
  RIOCACHE_ALLOCATE: 'allocate',
  RIOCACHE_PREFAULT: 'prefault',
  RIOCACHE_WRITEBACK_MAX_AGE_MS: 'writeBack.maxAgeMs',
  RIOCACHE_WRITEBACK_DIRTY_RATIO: 'writeBack.dirtyRatio',
  RIOCACHE_WRITEBACK_INTERVAL_MS: 'writeBack.intervalMs',
} as const;

/** Regions a pool may hold (`app.rio`, `app.rio.1`, … `app.rio.<max-1>`). */
export const POOL_REGIONS_MAX_DEFAULT = 64;
const POOL_REGIONS_MAX_LIMIT = 4096;

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'size';

const kinds: Record<keyof typeof ENV_OPTIONS, Kind> = {
  RIOCACHE_ROOT: 'string', RIOCACHE_REGION: 'string', RIOCACHE_SIZE: 'size', RIOCACHE_BLOCK_SIZE: 'integer',
  RIOCACHE_MAX_FILES: 'integer', RIOCACHE_UNDO_SIZE: 'size', RIOCACHE_SEGMENT_AREA_SIZE: 'size', RIOCACHE_FSYNC: 'string',
  RIOCACHE_KEEP_CLEAN_BUFFERS: 'boolean', RIOCACHE_ALLOCATE: 'string', RIOCACHE_PREFAULT: 'boolean',
  RIOCACHE_WRITEBACK_MAX_AGE_MS: 'number', RIOCACHE_WRITEBACK_DIRTY_RATIO: 'number', RIOCACHE_WRITEBACK_INTERVAL_MS: 'number',
};

export interface RegisterConfig {
  /** openCache options, with `region` the first path of the pool. */
  options: CacheOptions;
  /** How many regions the pool derived from `options.region` may hold. */
  poolMax: number;
  /** Print the region chosen and what its warm reboot did (RIOCACHE_VERBOSE=1). */
  verbose: boolean;
}

/** A configuration error: names the variable, says what it must be. */
export function envError(variable: string, what: string): RioError {
  return new RioError('REGISTER_CONFIG', `REGISTER_CONFIG: ${variable} ${what}`, { variable });
}

function parseValue(variable: string, raw: string, kind: Kind): unknown {
  switch (kind) {
    case 'string':
    case 'size':
      return raw; // sizes keep their units ('256MiB'); validateOptions parses them
    case 'boolean':
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      throw envError(variable, `must be 1, 0, true or false (it is "${raw}")`);
    default: {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw envError(variable, `must be a number (it is "${raw}")`);
      return n;
    }
  }
}

/** Reads and validates the configuration; `env` is process.env unless a test passes another. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): RegisterConfig {
  const options: Record<string, unknown> = {};
  const writeBack: Record<string, unknown> = {};
  for (const [variable, option] of Object.entries(ENV_OPTIONS) as Array<[keyof typeof ENV_OPTIONS, string]>) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = parseValue(variable, raw, kinds[variable]);
    if (option.startsWith('writeBack.')) writeBack[option.slice('writeBack.'.length)] = value;
    else options[option] = value;
  }
  if (Object.keys(writeBack).length > 0) options.writeBack = writeBack;
  if (options.root === undefined) {
    throw envError('RIOCACHE_ROOT', 'is not set: it names the data directory whose writes go through the cache ' +
      '(riocache/register was loaded with nothing to do).');
  }
  if (options.region === undefined) {
    throw envError('RIOCACHE_REGION', 'is not set: it names the region file, e.g. /dev/shm/app.rio ' +
      '(workers of one service take app.rio, app.rio.1, …).');
  }
  try {
    validateOptions(options);
  } catch (err) {
    throw renamed(err, options);
  }
  let poolMax = POOL_REGIONS_MAX_DEFAULT;
  if (env.RIOCACHE_POOL_MAX !== undefined && env.RIOCACHE_POOL_MAX !== '') {
    try {
      poolMax = checkInteger('RIOCACHE_POOL_MAX', Number(env.RIOCACHE_POOL_MAX), 1, POOL_REGIONS_MAX_LIMIT);
    } catch {
      throw envError('RIOCACHE_POOL_MAX', `must be an integer from 1 to ${POOL_REGIONS_MAX_LIMIT} (it is "${env.RIOCACHE_POOL_MAX}")`);
    }
  }
  const verbose = env.RIOCACHE_VERBOSE === '1' || env.RIOCACHE_VERBOSE === 'true';
  return { options: options as unknown as CacheOptions, poolMax, verbose };
}

/** validateOptions and the open name the option ("size"); the user set a variable (RIOCACHE_SIZE). */
export function renamed(err: unknown, options: Record<string, unknown>): unknown {
  const e = err as Error & { code?: string };
  if (typeof e?.message !== 'string') return err;
  for (const [variable, option] of Object.entries(ENV_OPTIONS)) {
    if (e.message.includes(`"${option}"`) || e.message.includes(`"options.${option}"`)) {
      const shown = option.startsWith('writeBack.') ? (options.writeBack as Record<string, unknown>)[option.slice(10)] : options[option];
      return envError(variable, `is invalid (${String(shown)}): ${e.message}`);
    }
  }
  return err;
}
