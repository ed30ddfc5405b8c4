/**
 * The built-in workloads. Each runs until killed, through the context's
 * recorded operations, so the harness knows every acknowledged write.
 */
import { FileHandle } from '../../fs/promises';
import type { Workload, WorkloadContext } from './context';

const int = (ctx: WorkloadContext, n: number) => Math.floor(ctx.random() * n);

/** Many small appends to a few logs, an fsync now and then. */
export const appendLog: Workload = async (ctx) => {
  const logs = ['log-0', 'log-1', 'log-2'];
  for (let i = 0; ; i++) {
    const file = logs[int(ctx, logs.length)];
    const k = ctx.random();
    ctx.append(file, k < 0.8 ? 8 + int(ctx, 120) : 200 + int(ctx, 5000));
    if (i % 97 === 96) ctx.fsync(file);
    if (i % 32 === 0) await ctx.yield();
  }
};

/** Random overwrites of a fixed set of files, sizes crossing block boundaries, sync and async. */
export const randomOverwrite: Workload = async (ctx) => {
  const files = ['table-0', 'table-1', 'table-2', 'table-3'];
  const size = 96 * 1024;
  const bs = ctx.cache.stats().blockSize;
  for (const f of files) {
    if (ctx.fs.fstatSync(ctx.fd(f)).size < size) ctx.write(f, 0, size);
  }
  for (let i = 0; ; i++) {
    const file = files[int(ctx, files.length)];
    const k = ctx.random();
    const length = k < 0.4 ? 1 + int(ctx, 200) : k < 0.8 ? bs - 50 + int(ctx, 100) : 1 + int(ctx, 3 * bs);
    const offset = int(ctx, size - length);
    if (i % 5 === 0) await ctx.writeAsync(file, offset, length);
    else ctx.write(file, offset, length);
    if (i % 16 === 0) await ctx.yield();
  }
};

/**
 * Create, write, append, truncate, rename, unlink and fsync over several
 * files in two directories, in a cache small enough that eviction and
 * back-pressure happen during the run.
 */
export const mixed: Workload = async (ctx) => {
  const names = ['m/a', 'm/b', 'm/c', 'n/d', 'n/e', 'f'];
  const bs = ctx.cache.stats().blockSize;
  for (let i = 0; ; i++) {
    const file = names[int(ctx, names.length)];
    const k = ctx.random();
    try {
      await mixedStep(ctx, file, names, k, bs);
    } catch (err) {
      // A refused operation (ENOENT after an unlink, …) is recorded as failed and changes nothing.
      if (!/^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code))) throw err;
    }
    if (i % 8 === 0) await ctx.yield();
  }
};

async function mixedStep(ctx: WorkloadContext, file: string, names: string[], k: number, bs: number): Promise<void> {
  {
    if (k < 0.45) {
      ctx.write(file, int(ctx, 12 * bs), 1 + int(ctx, 2 * bs));
    } else if (k < 0.65) {
      ctx.append(file, 1 + int(ctx, bs));
    } else if (k < 0.72) {
      ctx.truncate(file, int(ctx, 10 * bs));
    } else if (k < 0.78) {
      ctx.rename(file, names[int(ctx, names.length)]);
    } else if (k < 0.82) {
      ctx.unlink(file);
    } else if (k < 0.86) {
      ctx.fsync(file);
    } else {
      await ctx.writeAsync(file, int(ctx, 8 * bs), 1 + int(ctx, 3 * bs));
    }
  }
}

/** Working sets of the pressure workload, as multiples of the region's capacity (one drawn per run). */
const PRESSURE_FACTORS = [0.5, 1, 2, 4, 8];
const PRESSURE_FILES = ['p-0', 'p-1', 'p-2'];

/**
 * The cache under pressure: several files whose working set is drawn per run
 * from half the region to eight times it; 4 KiB-ish random reads and
 * writes, 64 KiB sequential runs, fsyncs and truncations, through the sync
 * and the promise API, with event-loop turns between them so background
 * write-back is in flight while synchronous calls need room. Every read is
 * checked against a model of the files (rebuilt from the files after each
 * restart, which the harness has verified), and any call that fails, for
 * lack of room or otherwise, fails the workload and so the campaign.
 */
export const pressure: Workload = async (ctx) => {
  const bs = ctx.cache.stats().blockSize;
  const capacity = ctx.cache.stats().capacityBytes;
  // Bulk writes of 64 KiB, or of the largest write that is one atomic step (G2) if that is less.
  const chunk = Math.min(64 * 1024, Math.floor(ctx.cache.atomicWriteBytesMax / bs) * bs);
  const factor = PRESSURE_FACTORS[int(ctx, PRESSURE_FACTORS.length)];
  const span = Math.max(bs, Math.floor((factor * capacity) / PRESSURE_FILES.length / bs) * bs);
  const model = new Map<string, Buffer>();
  for (const file of PRESSURE_FILES) {
    const fd = ctx.fd(file);
    const size = ctx.fs.fstatSync(fd).size;
    const bytes = Buffer.alloc(size);
    for (let at = 0; at < size; at += chunk) ctx.fs.readSync(fd, bytes, at, Math.min(chunk, size - at), at);
    model.set(file, bytes);
  }
  const apply = (file: string, offset: number, data: Buffer) => {
    let bytes = model.get(file)!;
    if (offset + data.length > bytes.length) {
      const grown = Buffer.alloc(offset + data.length);
      bytes.copy(grown);
      model.set(file, (bytes = grown));
    }
    data.copy(bytes, offset);
  };
  const write = async (file: string, offset: number, length: number, async: boolean) => {
    const data = ctx.payload(length); // the bytes ctx.write/writeAsync will write: the same seed and sequence number
    if (async) await ctx.writeAsync(file, offset, length);
    else ctx.write(file, offset, length);
    apply(file, offset, data);
  };
  const truncate = (file: string, length: number) => {
    ctx.truncate(file, length);
    const bytes = model.get(file)!;
    const next = Buffer.alloc(length);
    bytes.copy(next, 0, 0, Math.min(length, bytes.length));
    model.set(file, next);
  };
  // This run's working set: each file cut or grown (by sequential bulk writes) to its share.
  for (const file of PRESSURE_FILES) {
    const size = model.get(file)!.length;
    if (size > span) truncate(file, span);
    for (let at = size, n = 0; at < span; at += chunk, n++) {
      await write(file, at, Math.min(chunk, span - at), n % 4 === 1);
      if (n % 4 === 0) await ctx.yield();
    }
  }
  const got = Buffer.alloc(4 * bs);
  for (let i = 0; ; i++) {
    const file = PRESSURE_FILES[int(ctx, PRESSURE_FILES.length)];
    const bytes = model.get(file)!;
    const async = ctx.random() < 0.4;
    const k = ctx.random();
    if (k < 0.5) {
      const length = ctx.random() < 0.8 ? bs : 1 + int(ctx, 3 * bs);
      const offset = ctx.random() < 0.8 ? int(ctx, Math.max(1, bytes.length / bs)) * bs : int(ctx, Math.max(1, bytes.length));
      const fd = ctx.fd(file);
      const n = async
        ? (await new FileHandle(ctx.cache, fd).read(got, 0, length, offset)).bytesRead
        : ctx.fs.readSync(fd, got, 0, length, offset);
      const want = Math.max(0, Math.min(length, bytes.length - offset));
      if (n !== want || !got.subarray(0, n).equals(bytes.subarray(offset, offset + n))) {
        throw new Error(`read of ${file} at ${offset} (${length} bytes, ${async ? 'promise' : 'sync'}) returned ${n} bytes ` +
          `that differ from the ${want} acknowledged ones`);
      }
    } else if (k < 0.85) {
      const length = ctx.random() < 0.7 ? bs : 1 + int(ctx, 2 * bs);
      const offset = ctx.random() < 0.7 ? int(ctx, span / bs) * bs : int(ctx, span);
      await write(file, offset, length, async);
    } else if (k < 0.93) {
      // A sequential run of bulk writes from a random block: bulk data through a full cache.
      let at = int(ctx, span / bs) * bs;
      for (let n = 0; n < 8; n++, at += chunk) await write(file, at, chunk, async && n % 2 === 0);
    } else if (k < 0.97) {
      if (async) await ctx.recordAsync({ op: 'fsync', file }, () => new FileHandle(ctx.cache, ctx.fd(file)).sync());
      else ctx.fsync(file);
    } else {
      truncate(file, Math.floor(span / 2) + int(ctx, Math.ceil(span / 2)));
    }
    if (i % 8 === 0) await ctx.yield();
  }
};

export interface BuiltinWorkload {
  run: Workload;
  regionSize: string;
  /** Directories the workload expects under the root. */
  directories: string[];
  /** A segment area, for workloads that use segments. */
  segmentAreaSize?: string;
  description: string;
}

export const builtins: Record<string, BuiltinWorkload> = {
  append: { run: appendLog, regionSize: '4MiB', directories: [], description: 'append-only logs: many small appends, fsync now and then' },
  overwrite: { run: randomOverwrite, regionSize: '4MiB', directories: [], description: 'random overwrites of fixed files, crossing block boundaries' },
  mixed: {
    run: mixed, regionSize: '512KiB', directories: ['m', 'n'],
    description: 'create/write/truncate/rename/unlink/fsync with eviction and back-pressure',
  },
  pressure: {
    run: pressure, regionSize: '1MiB', directories: [],
    description: 'working sets of 0.5x to 8x the region over several files: reads checked, sync and promise calls, ' +
      'sequential runs, fsyncs and truncations, background write-back in flight; no call may fail',
  },
  names: {
    run: (ctx) => names(ctx), regionSize: '512KiB', directories: ['p', 'p/q'],
    description: 'directories holding dirty files renamed and removed (rm -r), copies from dirty files, truncation by path',
  },
};

/**
 * The namespace around cached files: writes leave data dirty in files inside
 * directories, which are then renamed and removed whole (rm -r), copied from
 * (copyFile of a file with dirty data, to a destination the cache holds) and
 * truncated by path. Files stay below the atomic write size, so a copy is
 * one write of the destination.
 */
export const names: Workload = async (ctx) => {
  const dirs = ['p', 'p/q', 's', 's/q'];
  const files = ['p/a', 'p/q/b', 'p/q/c', 's/a', 's/q/b', 'top'];
  const bs = ctx.cache.stats().blockSize;
  const maxBytes = Math.min(48 * 1024, ctx.cache.atomicWriteBytesMax);
  const sizeOf = (f: string) => {
    try {
      return ctx.fs.statSync(f).size;
    } catch {
      return 0;
    }
  };
  for (let i = 0; ; i++) {
    const file = files[int(ctx, files.length)];
    const other = files[int(ctx, files.length)];
    const k = ctx.random();
    try {
      const parent = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
      if (parent && !ctx.fs.existsSync(parent)) ctx.fs.mkdirSync(parent, { recursive: true }); // directories are not modelled
      if (k < 0.4) {
        const at = int(ctx, Math.max(1, Math.min(sizeOf(file) + 1, maxBytes - 2 * bs)));
        ctx.write(file, at, 1 + int(ctx, Math.min(2 * bs, maxBytes - at)));
      } else if (k < 0.55) {
        if (sizeOf(file) + bs < maxBytes) ctx.append(file, 1 + int(ctx, bs));
      } else if (k < 0.65) {
        if (other !== file && ctx.fs.existsSync(file)) {
          const dir = other.includes('/') ? other.slice(0, other.lastIndexOf('/')) : '';
          if (dir && !ctx.fs.existsSync(dir)) ctx.fs.mkdirSync(dir, { recursive: true });
          ctx.copyFile(file, other);
        }
      } else if (k < 0.75) {
        ctx.truncatePath(file, int(ctx, maxBytes));
      } else if (k < 0.85) {
        const from = dirs[int(ctx, dirs.length)];
        const to = dirs[int(ctx, dirs.length)];
        if (from !== to && !to.startsWith(from + '/') && !from.startsWith(to + '/')) ctx.rename(from, to);
      } else if (k < 0.93) {
        ctx.removeTree(dirs[int(ctx, dirs.length)]);
      } else {
        ctx.fsync(file);
      }
    } catch (err) {
      // A refused operation (ENOENT, ENOTEMPTY, …) is recorded as failed and changes nothing.
      if (!/^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code))) throw err;
    }
    if (i % 8 === 0) await ctx.yield();
  }
};

/** Accounts of the transfer workload: two files of 64 balances each, mirrored in a segment. */
export const ACCOUNTS_PER_FILE = 64;
export const ACCOUNT_FILES = ['accounts-a', 'accounts-b'];
export const BALANCES_SEGMENT = 'balances';
export const OPENING_BALANCE = 1000;

/**
 * Money transfers as transactions: each moves an amount between two accounts
 * (often in two files) and updates the segment mirror in the same meld, with
 * flush true or false at random.
 */
export const transfers: Workload = async (ctx) => {
  const cache = ctx.cache;
  const total = ACCOUNT_FILES.length * ACCOUNTS_PER_FILE;
  const seg = cache.segment(BALANCES_SEGMENT, total * 8);
  const segView = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  const fds = ACCOUNT_FILES.map((f) => ctx.fd(f));
  if (cache.fs.fstatSync(fds[0]).size === 0) {
    // Opening balances, as one meld (recorded as a transfer of 0 with full images).
    const images = ACCOUNT_FILES.map(() => Buffer.alloc(ACCOUNTS_PER_FILE * 8));
    images.forEach((img) => { for (let i = 0; i < ACCOUNTS_PER_FILE; i++) img.writeBigInt64LE(BigInt(OPENING_BALANCE), i * 8); });
    const segImage = Buffer.concat(images);
    ctx.record({ op: 'transfer', from: 0, to: 0, amount: 0, files: ACCOUNT_FILES, data: images.map((b) => b.toString('base64')),
      segment: { name: BALANCES_SEGMENT, data: segImage.toString('base64') } }, () =>
      cache.transactionSync((tfs, tx) => {
        images.forEach((img, i) => tfs.writeSync(fds[i], img, 0, img.length, 0));
        tx.setRange(seg, 0, seg.length);
        seg.set(segImage);
      }, { flush: true }));
  }
  const read = (account: number): bigint => {
    const b = Buffer.alloc(8);
    cache.fs.readSync(fds[Math.floor(account / ACCOUNTS_PER_FILE)], b, 0, 8, (account % ACCOUNTS_PER_FILE) * 8);
    return b.readBigInt64LE(0);
  };
  for (let i = 0; ; i++) {
    const from = Math.floor(ctx.random() * total);
    let to = Math.floor(ctx.random() * total);
    if (to === from) to = (to + 1) % total;
    const amount = 1 + Math.floor(ctx.random() * 50);
    const balances = ACCOUNT_FILES.map((_, f) => {
      const img = Buffer.alloc(ACCOUNTS_PER_FILE * 8);
      cache.fs.readSync(fds[f], img, 0, img.length, 0);
      return img;
    });
    const next = (account: number, v: bigint) =>
      balances[Math.floor(account / ACCOUNTS_PER_FILE)].writeBigInt64LE(v, (account % ACCOUNTS_PER_FILE) * 8);
    const fromBalance = read(from) - BigInt(amount);
    const toBalance = read(to) + BigInt(amount);
    next(from, fromBalance);
    next(to, toBalance);
    const flush = ctx.random() < 0.2;
    ctx.record({ op: 'transfer', from, to, amount, files: ACCOUNT_FILES, data: balances.map((b) => b.toString('base64')),
      segment: { name: BALANCES_SEGMENT, data: Buffer.concat(balances).toString('base64') } }, () =>
      cache.transactionSync((tfs, tx) => {
        for (const [account, v] of [[from, fromBalance], [to, toBalance]] as const) {
          const b = Buffer.alloc(8);
          b.writeBigInt64LE(v, 0);
          tfs.writeSync(fds[Math.floor(account / ACCOUNTS_PER_FILE)], b, 0, 8, (account % ACCOUNTS_PER_FILE) * 8);
          tx.setRange(seg, account * 8, 8);
          segView.setBigInt64(account * 8, v, true);
        }
      }, { flush }));
    if (i % 16 === 0) await ctx.yield();
  }
};

builtins.transfer = {
  run: transfers, regionSize: '1MiB', directories: [], segmentAreaSize: '64KiB',
  description: 'money transfers between accounts in two files and a segment, as transactions (flush true and false)',
};
