/**
 * Real workloads, whole programs, run twice side by side: on plain fs and
 * under `riocache/register` (the same code, its data directory beneath
 * RIOCACHE_ROOT). Each trial is one function run in a fresh process
 * (bench/registerWorker.ts); it does `ops` operations of its kind after a
 * warm-up and reports how long they took, with every byte written
 * acknowledged as the library acknowledges it (a resolved promise, a
 * callback, sonic-boom's or the stream's drain).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

export interface RegisterTrial {
  id: string;
  title: string;
  /** Operations per measured run (quick runs do a tenth). */
  ops: number;
  /** Does `n` operations in `dir`; resolves when they are acknowledged. */
  run(dir: string, n: number, phase: 'warmup' | 'measure'): Promise<void>;
  /** True for the trials of calls outside the root (the hook's overhead). */
  outside?: boolean;
}

const line100 = (i: number) => `${String(i).padStart(10, '0')} ${'x'.repeat(88)}\n`; // 100 bytes
const block4k = Buffer.alloc(4096, 0x61);
const bytes100 = Buffer.from(line100(0));

/** Sequential callback writes: the next one starts in the previous one's callback. */
function callbackWrites(fd: number, data: Buffer, n: number): Promise<void> {
  return new Promise((res, rej) => {
    let i = 0;
    const next = (err: NodeJS.ErrnoException | null) => {
      if (err) return rej(err);
      if (i++ === n) return res();
      fs.write(fd, data, 0, data.length, null, next);
    };
    next(null);
  });
}

function drained(stream: { write(s: string): boolean; once(e: string, f: () => void): unknown }, n: number, text: (i: number) => string): Promise<void> {
  return new Promise((res) => {
    let i = 0;
    const more = () => {
      while (i < n) if (!stream.write(text(i++))) return void stream.once('drain', more);
      res();
    };
    more();
  });
}

export const registerTrials: RegisterTrial[] = [
  {
    id: 'pino', title: 'pino: lines/s through pino.destination(path)', ops: 200_000,
    async run(dir, n, phase) {
      const pino = require('pino');
      const dest = pino.destination(join(dir, `pino-${phase}.log`));
      const log = pino({ base: null }, dest);
      await new Promise<void>((res) => dest.once('ready', res));
      for (let i = 0; i < n; i++) log.info({ i }, 'request handled');
      await new Promise<void>((res) => (dest._writing || dest._len > 0 ? dest.once('drain', res) : res()));
      dest.end();
    },
  },
  {
    id: 'lowdb', title: 'lowdb: updates/s (db.write of a 4 KiB document, JSONFile)', ops: 2_000,
    async run(dir, n, phase) {
      const { Low } = await import('lowdb');
      const { JSONFile } = await import('lowdb/node');
      const db = new Low<{ counters: Record<string, number> }>(new JSONFile(join(dir, `db-${phase}.json`)), { counters: {} });
      for (let k = 0; k < 200; k++) db.data.counters[`counter-${k}`] = 0;
      for (let i = 0; i < n; i++) {
        db.data.counters[`counter-${i % 200}`]++;
        await db.write();
      }
    },
  },
  ...([100, 4096] as const).flatMap((size): RegisterTrial[] => [
    {
      id: `appendFile-${size}`, title: `fs.promises.appendFile of ${size === 100 ? '100 B' : '4 KiB'}`, ops: size === 100 ? 20_000 : 10_000,
      async run(dir, n, phase) {
        const data = size === 100 ? bytes100 : block4k;
        const file = join(dir, `append-${size}-${phase}.log`);
        for (let i = 0; i < n; i++) await fs.promises.appendFile(file, data);
      },
    },
    {
      id: `fileHandle-${size}`, title: `FileHandle.write of ${size === 100 ? '100 B' : '4 KiB'} (appending)`, ops: size === 100 ? 50_000 : 20_000,
      async run(dir, n, phase) {
        const data = size === 100 ? bytes100 : block4k;
        const fh = await fs.promises.open(join(dir, `fh-${size}-${phase}.log`), 'a');
        for (let i = 0; i < n; i++) await fh.write(data);
        await fh.close();
      },
    },
  ]),
  {
    id: 'createWriteStream', title: 'a createWriteStream log: 100 B lines/s', ops: 200_000,
    async run(dir, n, phase) {
      const ws = fs.createWriteStream(join(dir, `stream-${phase}.log`), { flags: 'a' });
      await drained(ws, n, line100);
      await new Promise<void>((res) => ws.end(res));
    },
  },
  {
    id: 'callback-write', title: 'callback fs.write of 100 B on a descriptor', ops: 50_000,
    async run(dir, n, phase) {
      const fd = fs.openSync(join(dir, `cb-${phase}.log`), 'a');
      await callbackWrites(fd, bytes100, n);
      fs.closeSync(fd);
    },
  },
  {
    id: 'outside-writeSync', title: 'outside the root: fs.writeSync of 100 B (the hook\'s overhead)', ops: 200_000, outside: true,
    async run(dir, n, phase) {
      const fd = fs.openSync(join(dir, `outside-${phase}.log`), 'w');
      for (let i = 0; i < n; i++) fs.writeSync(fd, bytes100, 0, 100, (i % 1000) * 100);
      fs.closeSync(fd);
    },
  },
  {
    id: 'outside-statSync', title: 'outside the root: fs.statSync (the hook\'s overhead)', ops: 200_000, outside: true,
    async run(dir, n) {
      const file = join(dir, 'stat-me');
      fs.writeFileSync(file, 'x');
      for (let i = 0; i < n; i++) fs.statSync(file);
    },
  },
];
