/**
 * The RVM/TPC-A transaction (Lowell & Chen, Vista; Satyanarayanan et al.,
 * RVM): debit-credit over 32,768 accounts. Each transaction reads, updates
 * and writes back three 128-byte records (an account, its teller, its
 * branch) and appends a 64-byte history record, atomically.
 *
 * Contenders, each in a fresh process, A/B order rotated per repetition:
 *   riocache transaction, flush false (survives process death) and true
 *   (journal + one fdatasync: survives a kernel crash); lmdb transactionSync
 *   with default options (synced) and noSync + writemap; fs writes followed
 *   by fdatasync of every file touched (what durability costs without a cache).
 * Access: 'random' (uniform accounts) and 'local' (90% of accounts in a
 * window of 256 that moves slowly, 10% anywhere).
 *
 *   node dist/bench/tpca.js [--quick] [--json] [--reps N] [--out DIR]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { openCacheSync } from '../src';
import { markdownTable } from '../src/tools/term';

const ACCOUNTS = 32768;
const TELLERS = 3277;
const BRANCHES = 328;
const RECORD = 128;
const HISTORY = 64;

type Access = 'random' | 'local';
export interface TpcaResult {
  contender: string;
  access: Access;
  /** Median time per transaction over batches (ns). */
  ns: number;
  txPerSecond: number;
  /** Transactions this worker ran, and whether every balance table summed to the deltas run (it throws otherwise). */
  transactions: number;
  balanced: boolean;
}

export const contenders = ['rio.flush-false', 'rio.flush-true', 'lmdb.default', 'lmdb.nosync', 'fs.fdatasync'] as const;
type Contender = (typeof contenders)[number];
const labels: Record<Contender, string> = {
  'rio.flush-false': 'riocache transaction (flush: false)',
  'rio.flush-true': 'riocache transaction (flush: true)',
  'lmdb.default': 'lmdb transactionSync (default: synced)',
  'lmdb.nosync': 'lmdb transactionSync (noSync, useWritemap)',
  'fs.fdatasync': 'fs writes + fdatasync of each file',
};

/** A seeded account stream: uniform, or 90% in a slowly moving window of 256. */
function accounts(access: Access, n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let window = 0;
  for (let i = 0; i < n; i++) {
    if (access === 'random' || next() < 0.1) out[i] = Math.floor(next() * ACCOUNTS);
    else {
      if (i % 1000 === 0) window = Math.floor(next() * (ACCOUNTS - 256));
      out[i] = window + Math.floor(next() * 256);
    }
  }
  return out;
}

interface Tx {
  run(account: number, delta: bigint): void;
  /** The sums of the account, teller and branch balances: each must equal the sum of every delta run. */
  totals(): [bigint, bigint, bigint];
  close(): void;
}

/** Sums the first 8 bytes (the balance) of every record of a table read whole. */
function sumBalances(table: Buffer): bigint {
  let sum = 0n;
  for (let at = 0; at + RECORD <= table.length; at += RECORD) sum += table.readBigInt64LE(at);
  return sum;
}

function riocacheTx(dir: string, flush: boolean): Tx {
  const root = join(dir, 'root');
  fs.mkdirSync(root, { recursive: true });
  const cache = openCacheSync({ region: join('/dev/shm', `tpca-${process.pid}.rio`), root, size: '256MiB', undoSize: '4MiB' });
  const open = (name: string, records: number) => {
    const fd = cache.fs.openSync(name, 'w+');
    cache.fs.writeSync(fd, Buffer.alloc(records * RECORD), 0, records * RECORD, 0);
    return fd;
  };
  const fa = open('accounts', ACCOUNTS);
  const ft = open('tellers', TELLERS);
  const fb = open('branches', BRANCHES);
  const fh = cache.fs.openSync('history', 'a');
  cache.flushSync();
  const rec = Buffer.alloc(RECORD);
  const hist = Buffer.alloc(HISTORY);
  let historyBytes = 0;
  const update = (tfs: { writeSync: (fd: number, b: Buffer, o: number, l: number, p: number) => number }, fd: number, at: number, delta: bigint) => {
    cache.fs.readSync(fd, rec, 0, RECORD, at * RECORD);
    rec.writeBigInt64LE(rec.readBigInt64LE(0) + delta, 0);
    tfs.writeSync(fd, rec, 0, RECORD, at * RECORD);
  };
  return {
    run(account, delta) {
      cache.transactionSync((tfs) => {
        update(tfs, fa, account, delta);
        update(tfs, ft, account % TELLERS, delta);
        update(tfs, fb, account % BRANCHES, delta);
        hist.writeUInt32LE(account, 0);
        hist.writeBigInt64LE(delta, 8);
        tfs.writeSync(fh, hist, 0, HISTORY, null as unknown as number);
      }, { flush });
      // The history log would grow without bound: keep the working set fixed.
      // (Its size is counted here: an fstat per transaction would cost a third of it.)
      historyBytes += HISTORY;
      if (historyBytes > 32 << 20) {
        cache.fs.ftruncateSync(fh, 0);
        historyBytes = 0;
      }
    },
    totals() {
      const table = (fd: number, records: number) => {
        const b = Buffer.alloc(records * RECORD);
        cache.fs.readSync(fd, b, 0, b.length, 0);
        return sumBalances(b);
      };
      return [table(fa, ACCOUNTS), table(ft, TELLERS), table(fb, BRANCHES)];
    },
    close() {
      cache.closeSync();
      fs.rmSync(join('/dev/shm', `tpca-${process.pid}.rio`), { force: true });
    },
  };
}

function lmdbTx(dir: string, noSync: boolean): Tx {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { open } = require('lmdb');
  const db = open({ path: join(dir, 'lmdb'), noSync, useWritemap: noSync, mapSize: 1 << 30, encoding: 'binary' });
  const accounts = db.openDB({ name: 'accounts', encoding: 'binary' });
  const tellers = db.openDB({ name: 'tellers', encoding: 'binary' });
  const branches = db.openDB({ name: 'branches', encoding: 'binary' });
  const history = db.openDB({ name: 'history', encoding: 'binary' });
  const zero = Buffer.alloc(RECORD);
  db.transactionSync(() => {
    for (let i = 0; i < ACCOUNTS; i++) accounts.putSync(i, zero);
    for (let i = 0; i < TELLERS; i++) tellers.putSync(i, zero);
    for (let i = 0; i < BRANCHES; i++) branches.putSync(i, zero);
  });
  let seq = 0;
  const hist = Buffer.alloc(HISTORY);
  const update = (table: { getBinary(k: number): Buffer; putSync(k: number, v: Buffer): void }, key: number, delta: bigint) => {
    const rec = Buffer.from(table.getBinary(key));
    rec.writeBigInt64LE(rec.readBigInt64LE(0) + delta, 0);
    table.putSync(key, rec);
  };
  return {
    run(account, delta) {
      db.transactionSync(() => {
        update(accounts, account, delta);
        update(tellers, account % TELLERS, delta);
        update(branches, account % BRANCHES, delta);
        hist.writeUInt32LE(account, 0);
        hist.writeBigInt64LE(delta, 8);
        history.putSync(seq++ % 500000, hist);
      });
    },
    totals() {
      const table = (t: { getBinary(k: number): Buffer }, records: number) => {
        let sum = 0n;
        for (let k = 0; k < records; k++) sum += t.getBinary(k).readBigInt64LE(0);
        return sum;
      };
      return [table(accounts, ACCOUNTS), table(tellers, TELLERS), table(branches, BRANCHES)];
    },
    close() {
      db.close();
    },
  };
}

function fsTx(dir: string): Tx {
  const open = (name: string, records: number) => {
    const fd = fs.openSync(join(dir, name), 'w+');
    fs.writeSync(fd, Buffer.alloc(records * RECORD), 0, records * RECORD, 0);
    return fd;
  };
  const fa = open('accounts', ACCOUNTS);
  const ft = open('tellers', TELLERS);
  const fb = open('branches', BRANCHES);
  const fh = fs.openSync(join(dir, 'history'), 'a');
  const rec = Buffer.alloc(RECORD);
  const hist = Buffer.alloc(HISTORY);
  const update = (fd: number, at: number, delta: bigint) => {
    fs.readSync(fd, rec, 0, RECORD, at * RECORD);
    rec.writeBigInt64LE(rec.readBigInt64LE(0) + delta, 0);
    fs.writeSync(fd, rec, 0, RECORD, at * RECORD);
  };
  return {
    run(account, delta) {
      update(fa, account, delta);
      update(ft, account % TELLERS, delta);
      update(fb, account % BRANCHES, delta);
      hist.writeUInt32LE(account, 0);
      hist.writeBigInt64LE(delta, 8);
      fs.writeSync(fh, hist);
      for (const fd of [fa, ft, fb, fh]) fs.fdatasyncSync(fd);
    },
    totals() {
      const table = (fd: number, records: number) => {
        const b = Buffer.alloc(records * RECORD);
        fs.readSync(fd, b, 0, b.length, 0);
        return sumBalances(b);
      };
      return [table(fa, ACCOUNTS), table(ft, TELLERS), table(fb, BRANCHES)];
    },
    close() {
      for (const fd of [fa, ft, fb, fh]) fs.closeSync(fd);
    },
  };
}

/** One contender in this (fresh) process: tinybench batches; the median batch, per transaction. */
async function worker(contender: Contender, access: Access, quick: boolean): Promise<TpcaResult> {
  const dir = fs.mkdtempSync(join(fs.existsSync('/tmp') ? '/tmp' : '/dev/shm', 'riocache-tpca-'));
  const tx = contender === 'rio.flush-false' ? riocacheTx(dir, false)
    : contender === 'rio.flush-true' ? riocacheTx(dir, true)
      : contender === 'lmdb.default' ? lmdbTx(dir, false)
        : contender === 'lmdb.nosync' ? lmdbTx(dir, true) : fsTx(dir);
  const stream = accounts(access, 1 << 16, 42);
  const synced = contender === 'rio.flush-true' || contender === 'lmdb.default' || contender === 'fs.fdatasync';
  const batch = synced ? 4 : 256;
  let i = 0;
  let expected = 0n;
  const runBatch = () => {
    for (let k = 0; k < batch; k++) {
      const delta = BigInt((i & 7) - 3);
      tx.run(stream[i & 0xffff], delta);
      expected += delta;
      i++;
    }
  };
  for (let w = 0; w < (synced ? 20 : 2000); w++) runBatch(); // warm-up
  const bench = new Bench({ time: quick ? 300 : 1500, warmup: false });
  bench.add('tx', runBatch);
  await bench.run();
  const task = bench.tasks[0];
  const result = task.result as unknown as { latency?: { p50?: number; mean: number }; period?: number; p50?: number };
  const batchMs = result.latency?.p50 ?? result.p50 ?? result.latency?.mean ?? result.period ?? NaN;
  // A transaction benchmark that lost an update would be measuring something else.
  const totals = tx.totals();
  if (totals.some((t) => t !== expected)) {
    throw new Error(`${contender}: balances ${totals.join(', ')} after ${i} transactions, expected ${expected} each`);
  }
  tx.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const ns = (batchMs * 1e6) / batch;
  return { contender, access, ns, txPerSecond: 1e9 / ns, transactions: i, balanced: true };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export interface TpcaReport {
  results: Array<TpcaResult & { label: string; reps: number[] }>;
  targets: Array<{ target: string; measured: string; met: boolean }>;
  markdown: string;
}

/** Runs every contender × access pattern × repetition in fresh processes. */
export function runTpca(quick: boolean, reps: number): TpcaReport {
  const raw = new Map<string, number[]>();
  const counted = new Map<string, number>();
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? [...contenders] : [...contenders].reverse();
    for (const access of ['random', 'local'] as Access[]) {
      for (const c of order) {
        const res = spawnSync(process.execPath, [__filename, '--worker', c, access, quick ? 'quick' : 'full'], { encoding: 'utf8' });
        if (res.status !== 0) throw new Error(`tpca worker ${c} ${access} failed: ${res.stderr}`);
        const out = JSON.parse(res.stdout) as TpcaResult;
        const key = `${c} ${access}`;
        raw.set(key, [...(raw.get(key) ?? []), out.ns]);
        counted.set(key, (counted.get(key) ?? 0) + out.transactions);
      }
    }
  }
  const results = [...raw].map(([key, nss]) => {
    const [contender, access] = key.split(' ') as [Contender, Access];
    const ns = median(nss);
    // Every worker checked its balances (it fails otherwise): the report can say so.
    return { contender, access, ns, txPerSecond: 1e9 / ns, transactions: counted.get(key)!, balanced: true, label: labels[contender], reps: nss };
  });
  const get = (c: Contender, a: Access) => results.find((x) => x.contender === c && x.access === a)!;
  const targets = (['random', 'local'] as Access[]).flatMap((a) => {
    const rio = get('rio.flush-false', a);
    const lmdb = get('lmdb.nosync', a);
    return [
      { target: `flush: false ≥ 500,000 transactions/s (${a})`, measured: `${Math.round(rio.txPerSecond).toLocaleString('en-US')} tx/s`, met: rio.txPerSecond >= 500_000 },
      { target: `flush: false ≥ 5× lmdb noSync (${a})`, measured: `${(lmdb.ns / rio.ns).toFixed(2)}×`, met: lmdb.ns / rio.ns >= 5 },
    ];
  });
  const rows = results.map((x) => {
    const rio = get('rio.flush-false', x.access);
    return [x.access, x.label, `${(x.ns / 1000).toFixed(2)} µs`, Math.round(x.txPerSecond), `${(x.ns / rio.ns).toFixed(2)}×`,
      x.reps.map((n) => (n / 1000).toFixed(2)).join(', ')];
  });
  const markdown = [
    '## RVM/TPC-A transactions',
    '',
    'Three 128-byte read-modify-writes and a 64-byte history append per transaction, atomically; 32,768 accounts. ' +
      `${reps} repetition(s), each contender in a fresh process. Ratio: this contender's time over riocache flush: false.`,
    '',
    markdownTable(['access', 'contender', 'median per tx', 'tx/s', 'time vs rio flush:false', 'repetitions (µs)'], rows),
    '',
    'After each run the worker sums the account, teller and branch balances; each equals the sum of the deltas of every ' +
      'transaction run, or the run fails.',
    '',
    markdownTable(['target', 'measured', 'verdict'], targets.map((t) => [t.target, t.measured, t.met ? '**met**' : '**missed**'])),
  ].join('\n');
  return { results, targets, markdown };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    const out = await worker(args[1] as Contender, args[2] as Access, args[3] === 'quick');
    process.stdout.write(JSON.stringify(out));
    return;
  }
  const quick = args.includes('--quick');
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : quick ? 1 : 3;
  const outAt = args.indexOf('--out');
  // A quick run's figures are not worth keeping: they go to results/tmp (not committed).
  const out = outAt >= 0 ? args[outAt + 1] : join(__dirname, '..', '..', 'bench', 'results', quick ? 'tmp' : '');
  const report = runTpca(quick, reps);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(join(out, 'tpca.json'), JSON.stringify(report, null, 2));
  fs.writeFileSync(join(out, 'tpca.md'), report.markdown + '\n');
  process.stdout.write(args.includes('--json') ? JSON.stringify(report) + '\n' : report.markdown + '\n');
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
