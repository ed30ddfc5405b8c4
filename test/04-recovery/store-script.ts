/**
 * The script of region-changing operations that the store-boundary crash
 * tests cut: cut-every-store.test.ts stops each operation in this process
 * (a tracer throws), kill-every-store.test.ts has a real child SIGKILL itself.
 * Each operation's comment names the protocol path of docs/format.md §10 it
 * takes (the kill test checks the claims it can see: undo, shadow writes,
 * back-pressure).
 *
 * Self-contained on purpose: type imports only, and Node's own modules.
 * kill-every-store transpiles this file for its child (a plain Node process
 * over dist/, which holds no test code), so an import of the project's
 * files here would not resolve there.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Cache } from '../../src';

/** An operation of the script; `setup` ones are run but not cut (they are many writes, not one). */
export interface Op {
  name: string;
  run: (c: Cache, fds: Map<string, number>) => void;
  setup?: boolean;
  /** The protocol paths it takes that the cache's counters show (undoWrites, shadowWrites, backPressureSync); none else. */
  takes?: Array<'undo' | 'shadow' | 'backPressure'>;
}

export const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

const open = (c: Cache, fds: Map<string, number>, name: string, flags = 'r+') => {
  if (!fds.has(name)) fds.set(name, c.fs.openSync(name, flags));
  return fds.get(name)!;
};

/** The recoverable segment the transaction changes, and its size. */
export const SEGMENT = { name: 'counters', bytes: 64 } as const;

/** The region every world of the script lives in: 4 KiB blocks, about 120 buffers, room for one segment. */
export const cacheOptions = (region: string, root: string) => ({
  region, root, size: 512 * 1024, segmentAreaSize: 8192,
  // No background write-back: every store of an operation is the operation's own (back-pressure included).
  writeBack: { intervalMs: 1e6, dirtyRatio: 1 },
});

export const script: Op[] = [
  // The file table (two copies and a selector).
  { name: 'create', run: (c, f) => void open(c, f, 'log', 'w+') },
  // A fresh buffer, no undo: the size store is the commit.
  { name: 'append', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(100, 1), 0, 100, 0) },
  // writeOne without undo: bytes past the size, the descriptor, then the size commit.
  { name: 'append within a cached block', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(200, 12), 0, 200, 100) },
  // The gathering path: the cached block grows, a fresh one follows; no undo.
  { name: 'append across a block', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(5000, 2), 0, 5000, 300) },
  // writeOne with undo: records, arm, bytes, descriptor, IDLE.
  { name: 'overwrite inside a block', takes: ['undo'], run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(300, 3), 0, 300, 1000) },
  // The gathering path with undo, over cached and fresh blocks, and a SIZE record.
  {
    name: 'overwrite across blocks and extend', takes: ['undo'],
    run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(9000, 4), 0, 9000, 3000),
  },
  // The old last block zero-extended, a fresh block far past it, the size commit.
  { name: 'write past the end (hole)', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(50, 5), 0, 50, 20000) },
  // The size commit first, then the trim; then the disk file is cut.
  { name: 'truncate shorter', run: (c, f) => c.fs.ftruncateSync(open(c, f, 'log'), 6000) },
  // The last buffer zero-extended, then the size commit.
  { name: 'truncate longer', run: (c, f) => c.fs.ftruncateSync(open(c, f, 'log'), 13000) },
  { name: 'create a second file', run: (c, f) => void open(c, f, 'data', 'w+') },
  { name: 'second file, multi-block', run: (c, f) => c.fs.writeSync(open(c, f, 'data'), pattern(16384, 6), 0, 16384, 0) },
  // One cached block rewritten whole: a shadow buffer (a twin), its status store the commit.
  { name: 'rewrite one whole block (shadow)', takes: ['shadow'], run: (c, f) => c.fs.writeSync(open(c, f, 'data'), pattern(4096, 13), 0, 4096, 4096) },
  { name: 'overwrite whole blocks', takes: ['undo'], run: (c, f) => c.fs.writeSync(open(c, f, 'data'), pattern(8192, 7), 0, 8192, 4096) },
  // Write-back of every dirty buffer of two files: DIRTY -> WRITING, pwritev, fdatasync, WRITING -> CLEAN.
  { name: 'flush', run: (c) => c.flushSync() },
  // Clean buffers overwritten: undo, and each goes DIRTY again.
  { name: 'overwrite after flush', takes: ['undo'], run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(700, 8), 0, 700, 4000) },
  // Several calls, so not cut: a file for the rename to replace, still open (its inode becomes an orphan).
  { name: 'a third file', setup: true, run: (c, f) => c.fs.writeSync(open(c, f, 'log2', 'w+'), pattern(3000, 17), 0, 3000, 0) },
  // The namespace intent: armed (the commit), the disk rename, the file table, disarmed.
  { name: 'rename over an existing file', run: (c) => c.fs.renameSync('data', 'log2') },
  // Write-back of one file.
  { name: 'fsync', run: (c, f) => c.fs.fsyncSync(open(c, f, 'log')) },
  { name: 'unlink', run: (c) => c.fs.unlinkSync('log2') },
  { name: 'many small appends', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(64, 9), 0, 64, 13000) },
  {
    name: 'fill the cache with dirty data', setup: true,
    run: (c, f) => {
      const fd = open(c, f, 'bulk', 'w+');
      for (let i = 0; i < 120; i++) c.fs.writeSync(fd, pattern(4096, i), 0, 4096, i * 4096);
    },
  },
  // Evictions and inline write-back inside the write (G9's back-pressure).
  {
    name: 'multi-block write under back-pressure', takes: ['undo', 'backPressure'],
    run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(20000, 10), 0, 20000, 2000),
  },
  { name: 'overwrite of dirty bulk data', takes: ['undo'], run: (c, f) => c.fs.writeSync(open(c, f, 'bulk'), pattern(10000, 11), 0, 10000, 100000) },
  // The segment's bytes, its directory entry, then its state: the commit.
  { name: 'create a segment', run: (c) => void c.segment(SEGMENT.name, SEGMENT.bytes) },
  // One undo area for all: two files (one grows), a segment range; the IDLE store commits the meld.
  {
    name: 'transaction over two files and a segment', takes: ['undo'],
    run: (c, f) => {
      const seg = c.segment(SEGMENT.name, SEGMENT.bytes);
      c.transactionSync((tfs, tx) => {
        tfs.writeSync(open(c, f, 'log'), pattern(300, 14), 0, 300, 21900);
        tfs.writeSync(open(c, f, 'bulk'), pattern(200, 15), 0, 200, 100500);
        tx.setRange(seg, 8, 16);
        seg.set(pattern(16, 16), 8);
      }, { flush: false });
    },
  },
  // A truncating writeFile's core (replace.ts): arm, a SIZE record, the write's records and bytes, the size, IDLE;
  // then the trim past the new size. The old contents or the new, never empty, never a mix.
  { name: 'replace with shorter contents (writeFile)', takes: ['undo'], run: (c, f) => c.io.replaceSync(open(c, f, 'log'), pattern(5000, 20), 0, 5000) },
  { name: 'replace with longer contents (writeFile)', takes: ['undo'], run: (c, f) => c.io.replaceSync(open(c, f, 'log'), pattern(12000, 21), 0, 12000) },
  // A closed, written-back file (detached: no descriptor, its entry clean) renamed by another program.
  {
    name: 'a detached file renamed behind the cache', setup: true,
    run: (c) => {
      const fd = c.fs.openSync('aside', 'w+');
      c.fs.writeSync(fd, pattern(6000, 22), 0, 6000, 0);
      c.fs.closeSync(fd);
      c.flushSync();
      fs.renameSync(join(c.root, 'aside'), join(c.root, 'moved'));
    },
  },
  // attach() finds the old entry by inode, sees its path no longer names it and retires it (its clean buffers
  // dropped, the slot FREE), then makes an entry under the new name; the write (an overwrite: undo) follows.
  { name: 'open a renamed file by its new name (stale entry retired)', takes: ['undo'], run: (c, f) => c.fs.writeSync(open(c, f, 'moved'), pattern(200, 23), 0, 200, 100) },
  // A creating writeFile (docs/format.md §6, UNNAMED): an unnamed file's entry, its bytes through the region, the
  // link, the entry ACTIVE. No file, or the whole file; never an empty or a partial one. No undo: the appends to an
  // empty file need none, as nothing of the file is anybody's before the link.
  { name: 'create a file whole (writeFile)', run: (c) => c.fs.writeFileSync('made', pattern(9000, 24)) },
];
