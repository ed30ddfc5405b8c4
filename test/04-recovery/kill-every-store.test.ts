/**
 * A real process SIGKILLed right before a store of each region-changing
 * operation. cut-every-store.test.ts stops the operations of the script
 * (store-script.ts) inside this process; here a child process
 * (test/fixtures/kill-at-store.js) opens a region the parent prepared, runs
 * the operations before operation i, and runs operation i with the crash
 * harness's own kill armed (src/tools/crashtest/kill.ts: SIGKILL of the
 * process right before region store N, N counted from the open) at store k
 * of the operation. The parent then reopens the region (the warm reboot):
 * every file and every segment must be byte for byte the state before the
 * operation or the state after it (G1, G2), the oracle's states being the
 * script run in this process. k goes on until the child completes without
 * being killed, which must happen at k = the operation's store count and
 * leave the state after.
 *
 * Kill points. First a count run (no kill) of each operation reports how
 * many stores the open, the operations before it and the operation itself
 * make, and of which kind; it proves that the completed operation leaves the
 * state after, and checks the protocol paths the script claims (undo, shadow
 * write, back-pressure: store-script.ts `takes`). A kill run then passes
 * killAtStore = opened + before + k; the child checks that the operations
 * before made the counted number of stores, and the run at k = the count
 * must be the first to complete, so a kill point cannot drift out of its
 * operation unnoticed.
 *
 * Killing before every store of all 23 operations means 1,418 children at
 * 120-250 ms each (the later ones replay more of the script first): 104 s on
 * this 2-core machine (RIOCACHE_KILL_EVERY=1), too long for every run. So
 * each kind of operation of docs/format.md §10 has a representative
 * killed before EVERY one of its stores (`plan`: 'every'), 500 kill points:
 * create a second file (the file table), append within a cached block
 * (writeOne, no undo: the size is the commit), append across a block (the
 * gathering path, no undo), overwrite inside a block (writeOne with undo),
 * rewrite one whole block (the shadow twin), overwrite whole blocks
 * (multi-block with undo), write past the end (a hole), truncate shorter and
 * longer, flush (write-back of two files), fsync (of one), rename over an
 * existing file, unlink, create a segment, the transaction over two
 * files and a segment (flush: false), replace (a truncating writeFile's
 * one atomic step, shrinking the file), and a writeFile that creates its file
 * (an unnamed file's entry, its bytes, the link: no file or the whole file). The others repeat those protocols at a
 * larger scale or from another start (the first file-table write, of every
 * slot; multi-block writes of 3 to 6 blocks; back-pressure with evictions and
 * inline write-back inside the write; clean buffers overwritten; a block
 * read back from disk before an append); each is killed at a seeded sample of its stores:
 * store 0, half right before or right after a commit or a CAS (where the
 * state flips), the rest anywhere (84 kill points). The seed is printed with
 * any failure, and RIOCACHE_KILL_ONLY=<operation>:<k> replays one kill;
 * RIOCACHE_KILL_EVERY=1 kills before every store of every operation. Two
 * children run at a time, each in its own world. Measured: 630 children
 * (584 kills, 23 count runs, 23 completions) in 41 s on the idle machine,
 * 49-52 s with another test run sharing its two cores; with the two replace
 * operations, 721 kills in 166 s on the machine shared with other test runs.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { fixtures, rng, scratchDir } from '../helpers';
import { describeMismatch, equalStates, expectedStates, makeWorld, reopenedState, worldOptions, type World } from './cuts';
import { script } from './store-script';
import { transpileForChild } from '../transpile';

const { dir, cleanup } = scratchDir('kills');
afterAll(cleanup);

const SEED = Number(process.env.RIOCACHE_KILL_SEED ?? 20261122);
const only = process.env.RIOCACHE_KILL_ONLY?.split(':').map(Number); // [operation, k]
const everyStore = process.env.RIOCACHE_KILL_EVERY === '1'; // the whole sweep, every store of every operation
const width = Math.max(1, Math.min(2, availableParallelism()));

/** Every store, or a seeded sample of this many (see the header). Every operation of the script but the setup ones has an entry. */
const plan: Record<string, 'every' | number> = {
  'create': 12,
  'append': 8,
  'append within a cached block': 'every',
  'append across a block': 'every',
  'overwrite inside a block': 'every',
  'overwrite across blocks and extend': 12,
  'write past the end (hole)': 'every',
  'truncate shorter': 'every',
  'truncate longer': 'every',
  'create a second file': 'every',
  'second file, multi-block': 10,
  'rewrite one whole block (shadow)': 'every',
  'overwrite whole blocks': 'every',
  'flush': 'every',
  'overwrite after flush': 8,
  'rename over an existing file': 'every',
  'fsync': 'every',
  'unlink': 'every',
  'many small appends': 6,
  'multi-block write under back-pressure': 16,
  'overwrite of dirty bulk data': 12,
  'create a segment': 'every',
  'transaction over two files and a segment': 'every',
  'replace with shorter contents (writeFile)': 'every',
  'replace with longer contents (writeFile)': 12,
  'open a renamed file by its new name (stale entry retired)': 'every',
  'create a file whole (writeFile)': 'every',
};

/** The kind of each store an operation makes, one letter each as the child reports them, and what to call it. */
const KINDS: Record<string, string> = {
  s: 'plain store', C: 'commit (Atomics.store)', A: 'compare-and-swap', f: 'float store', b: 'byte copy', m: 'move', z: 'fill',
};
const kindName = (letter: string | undefined) => (letter === undefined ? 'point past the last store' : KINDS[letter]);

interface Counted {
  opened: number;
  prefix: number;
  stores: number;
  kinds: string;
  undoWrites: number;
  shadowWrites: number;
  backPressureSync: number;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The script for the child: dist/ holds no test code, so store-script.ts (type imports and Node's modules only) is transpiled once. */
function transpileScript(): string {
  const path = join(dir, 'store-script.js');
  const js = transpileForChild(join(__dirname, 'store-script.ts'), path);
  if (/\brequire\((?!"node:)/.test(js)) throw new Error('store-script.ts imports a project file: its transpiled copy cannot resolve it in the child');
  return path;
}

function runChild(cfg: object): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(fixtures, 'kill-at-store.js'), JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A fresh world with an empty region, created and closed by this process: the child opens what the parent prepared. */
function prepare(slot: number): World {
  const w = makeWorld(dir, `world-${slot}`);
  openCacheSync(worldOptions(w)).closeSync();
  return w;
}

/** k in [0, stores): store 0, then half near commits, then anywhere; sorted. */
function sampleKills(counted: Counted, size: number, seed: number): number[] {
  const r = rng(seed);
  const { stores, kinds } = counted;
  const chosen = new Set<number>([0]);
  const near: number[] = [];
  for (let j = 0; j < stores; j++) {
    if (kinds[j] === 'C' || kinds[j] === 'A') near.push(j, j + 1);
  }
  const take = (from: number[], until: number) => {
    const pool = from.filter((k) => k < stores && !chosen.has(k));
    while (chosen.size < until && pool.length > 0) chosen.add(pool.splice(Math.floor(r() * pool.length), 1)[0]);
  };
  take(near, Math.ceil(size / 2));
  take(Array.from({ length: stores }, (_, k) => k), size);
  return [...chosen].sort((a, b) => a - b);
}

/** Runs `fn` over the items, `width` at a time, each call with its own slot; stops starting new ones after a failure. */
async function inParallel<T>(items: T[], fn: (item: T, slot: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (slot: number) => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await fn(item, slot);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: width }, (_, slot) => worker(slot)));
}

describe('a real process killed before any store of an operation leaves it all or nothing', () => {
  it('holds at every store of a representative of each operation and at a seeded sample of the others', async () => {
    const scriptPath = transpileScript();
    const states = expectedStates(dir);
    const summary: string[] = [];
    let kills = 0;
    for (let i = 0; i < script.length; i++) {
      const op = script[i];
      if (op.setup || (only && only[0] !== i)) continue;
      const mode = plan[op.name];
      if (mode === undefined) throw new Error(`operation "${op.name}" has no entry in plan: choose 'every' or a sample size`);
      const before = states[i];
      const after = states[i + 1];
      const where = (k: number, counted: Counted) =>
        `operation #${i} "${op.name}" killed before its store ${k} of ${counted.stores} (a ${kindName(counted.kinds[k])}; ` +
        `killAtStore ${counted.opened + counted.prefix + k} from the open; seed ${SEED}; replay with RIOCACHE_KILL_ONLY=${i}:${k})`;

      // The count run: no kill, the operation completes.
      const w0 = prepare(0);
      const run0 = await runChild({ script: scriptPath, region: w0.region, root: w0.root, op: i });
      if (run0.code !== 0) throw new Error(`the count run of operation #${i} "${op.name}" failed (code ${run0.code}, signal ${run0.signal}): ${run0.stderr}`);
      const counted = JSON.parse(run0.stdout) as Counted;
      expect(counted.kinds.length).toBe(counted.stores);
      const done0 = reopenedState(w0);
      if (!equalStates(done0, after)) {
        throw new Error(`operation #${i} "${op.name}" completed in the child, but the reopened files are not the state after it:\n` +
          describeMismatch(done0, before, after));
      }
      const takes = op.takes ?? [];
      expect({ op: op.name, undo: counted.undoWrites > 0, shadow: counted.shadowWrites > 0, backPressure: counted.backPressureSync > 0 })
        .toEqual({ op: op.name, undo: takes.includes('undo'), shadow: takes.includes('shadow'), backPressure: takes.includes('backPressure') });

      const ks = only ? [only[1]] : mode === 'every' || everyStore
        ? Array.from({ length: counted.stores }, (_, k) => k)
        : sampleKills(counted, mode, SEED + i);
      const seen = { before: 0, after: 0 };
      const killAt = async (k: number, slot: number) => {
        const w = prepare(slot);
        const run = await runChild({
          script: scriptPath, region: w.region, root: w.root, op: i,
          killAtStore: counted.opened + counted.prefix + k, prefix: counted.prefix,
        });
        const completed = run.code === 0 && run.signal === null;
        if (!completed && run.signal !== 'SIGKILL') throw new Error(`${where(k, counted)}: the child failed (code ${run.code}, signal ${run.signal}): ${run.stderr}`);
        if (completed !== (k >= counted.stores)) {
          throw new Error(`${where(k, counted)}: the child ${completed ? 'completed' : 'was killed'}, but the count run saw ${counted.stores} stores`);
        }
        let got: Map<string, Buffer>;
        try {
          got = reopenedState(w);
        } catch (err) {
          throw new Error(`${where(k, counted)}: the warm reboot failed: ${(err as Error).stack}`);
        }
        if (equalStates(got, after)) seen.after++;
        else if (!completed && equalStates(got, before)) seen.before++;
        else {
          throw new Error(`${where(k, counted)}: after the warm reboot the files are ${completed ? 'not the state after the operation' :
            'neither the state before the operation nor the state after it (G1, G2)'}:\n${describeMismatch(got, before, after)}`);
        }
      };
      if (only) await killAt(only[1], 0);
      else {
        await inParallel(ks, killAt);
        await killAt(counted.stores, 0); // the loop's end: armed past the last store, the child completes
      }
      kills += ks.length;
      summary.push(`#${i} ${op.name}: ${counted.stores} stores, ${ks.length === counted.stores ? 'every one' : `${ks.length} sampled`}; ` +
        `recovered before ${seen.before}, after ${seen.after}`);
    }
    console.log(`${kills} kills (seed ${SEED}, ${width} at a time)\n${summary.join('\n')}`);
    if (!only) expect(kills).toBeGreaterThan(400);
  }, everyStore ? 900_000 : 240_000);
});
