/**
 * The crash harness's mixed workload run in-process, without kills, against
 * a byte model: writes (sync and through FileHandle), appends, truncates,
 * renames, unlinks and fsyncs in a cache small enough to evict and push back,
 * with write-back running in the background. Every few operations every file
 * is read back through the cache; now and then the disk files are compared
 * after a flush. Races between background I/O and the namespace show here
 * as stale bytes in holes or in another file.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { WorkloadContext } from '../../src/tools/crashtest/context';
import { payload, type OpRecord } from '../../src/tools/crashtest/protocol';
import { mulberry } from '../../src/tools/crashtest/random';
import { builtins } from '../../src/tools/crashtest/workloads';
import { scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('mixed-model');
afterAll(cleanup);

const NAMES = ['m/a', 'm/b', 'm/c', 'n/d', 'n/e', 'f'];
const OPS = 30_000;
const CHECK_EVERY = 97;
const DISK_EVERY = 1_500;

/** Stops the workload after the last operation is checked. */
class Done extends Error {}

function applyTo(model: Map<string, Buffer>, seed: number, op: OpRecord): void {
  switch (op.op) {
    case 'create':
      model.set(op.file, Buffer.alloc(0));
      break;
    case 'write': {
      const cur = model.get(op.file) ?? Buffer.alloc(0);
      const next = Buffer.alloc(Math.max(cur.length, op.offset + op.length));
      cur.copy(next);
      payload(seed, op.seq, op.length).copy(next, op.offset);
      model.set(op.file, next);
      break;
    }
    case 'truncate': {
      const next = Buffer.alloc(op.length);
      model.get(op.file)!.copy(next, 0, 0, op.length);
      model.set(op.file, next);
      break;
    }
    case 'rename':
      if (op.from !== op.to) {
        model.set(op.to, model.get(op.from)!);
        model.delete(op.from);
      }
      break;
    case 'unlink':
      model.delete(op.file);
      break;
    default:
      break;
  }
}

/** The first differing byte and the run of differences from it, for the message. */
function difference(want: Buffer | undefined, got: Buffer | undefined): string {
  if (!want || !got) return `expected ${want ? `${want.length} bytes` : 'no file'}, found ${got ? `${got.length} bytes` : 'no file'}`;
  if (want.length !== got.length) return `expected ${want.length} bytes, found ${got.length}`;
  let at = 0;
  while (want[at] === got[at]) at++;
  let end = at;
  while (end < want.length && want[end] !== got[end]) end++;
  return `bytes ${at}..${end} differ`;
}

async function runModel(seed: number): Promise<void> {
  const base = join(dir, `s${seed}`);
  const root = join(base, 'root');
  for (const d of builtins.mixed.directories) fs.mkdirSync(join(root, d), { recursive: true });
  const cache = openCacheSync({
    region: join(base, 'region.rio'), root, size: builtins.mixed.regionSize, blockSize: 4096,
    writeBack: { intervalMs: 5, maxAgeMs: 10, dirtyRatio: 0.5 },
  });
  const model = new Map<string, Buffer>();
  const devNull = fs.openSync('/dev/null', 'w');
  const ctx = new WorkloadContext(cache, seed, mulberry(seed * 7919 + 1), devNull, 0);
  let count = 0;
  let failure: string | null = null;
  const checkThroughCache = (after: OpRecord) => {
    for (const name of NAMES) {
      const want = model.get(name);
      let got: Buffer | undefined;
      try {
        got = cache.fs.readFileSync(name);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (want === undefined && got === undefined) continue;
      if (!want || !got || !want.equals(got)) {
        failure = `seed ${seed}, after op ${count} (${JSON.stringify(after)}): ${name} read through the cache: ${difference(want, got)}`;
        throw new Done();
      }
    }
  };
  // Applied to the model when acknowledged; a refused operation changes nothing.
  const acknowledged = (op: OpRecord) => {
    applyTo(model, seed, op);
    count++;
    if (count % CHECK_EVERY === 0) checkThroughCache(op);
    if (count >= OPS) throw new Done();
  };
  const hooks = ctx as unknown as { seq: number };
  ctx.record = function <T>(op: Omit<OpRecord, 'seq'>, fn: () => T): T {
    const seq = hooks.seq++;
    const result = fn();
    acknowledged({ ...op, seq } as OpRecord);
    return result;
  };
  ctx.recordAsync = async function <T>(op: Omit<OpRecord, 'seq'>, fn: () => Promise<T>): Promise<T> {
    const seq = hooks.seq++;
    const result = await fn();
    acknowledged({ ...op, seq } as OpRecord);
    if (count % DISK_EVERY < 8) {
      // After a flush the disk holds exactly the model.
      await cache.flush();
      for (const name of NAMES) {
        const want = model.get(name);
        const path = join(root, name);
        const got = fs.existsSync(path) ? fs.readFileSync(path) : undefined;
        if ((want === undefined) !== (got === undefined) || (want && !want.equals(got!))) {
          failure = `seed ${seed}, after op ${count}: ${name} on disk after flush: ${difference(want, got)}`;
          throw new Done();
        }
      }
    }
    return result;
  };
  try {
    await builtins.mixed.run(ctx);
  } catch (err) {
    if (!(err instanceof Done)) throw err;
  }
  fs.closeSync(devNull);
  expect(failure).toBe(null);
  expect(count).toBe(OPS);
  await cache.close();
}

describe('the mixed workload against a byte model (in-process, background write-back)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: ${OPS} operations, every file read back every ${CHECK_EVERY}`, () => runModel(seed));
  }
});
