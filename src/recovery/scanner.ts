/**
 * The warm reboot (docs/format.md §12): brings a region whose owner died back
 * to a consistent state and writes every surviving dirty buffer to its file.
 *
 * Every step is bounded by the registry or table size, whatever the links
 * say, and every step can be cut and run again with the same result (G6):
 * the undo rollback writes fixed values, the namespace intent is redone only
 * while the disk still shows its inode, and a buffer is marked clean only
 * after its file was written and synced. Recovery writes only beneath the
 * root and only into the file whose inode the file table recorded (G7).
 */
import * as fs from 'node:fs';
import { native } from '../native';
import {
  C, CONTROL_OFFSET, DIRTY, FILE_ACTIVE, FILE_FREE, FILE_ORPHAN, FILE_UNNAMED, FREE, INTENT_REMOVE_TREE, INTENT_RENAME, INTENT_UNLINK, NIL, STATE_MASK,
  WRITING, ZERO_NONE,
} from '../region/format';
import type { Region } from '../region/region';
import { RegionFile } from './regionFile';
import { EMPTY_ENTRY, FileTable, type FileEntry } from '../cache/fileTable';
import { type Intent, NamespaceIntent } from '../cache/intent';
import { removeTree } from '../cache/tree';
import { DIRTY_LIST, List, LRU } from '../cache/lists';
import { CLEAN, Registry } from '../cache/registry';
import { applyStamp, SIZE_DIRTY, SizeTable } from '../cache/sizes';
import { Segments } from '../cache/segments';
import { UNDO_BYTES_RECORD, UNDO_SEGMENT_RECORD, UNDO_SIZE_RECORD, UndoLog } from '../cache/undo';
import { checkRelativePath } from '../cache/paths';
import { quarantine, LOST_AND_FOUND, type QuarantineRecord } from './quarantine';
import { emptyReport, type ListRepair, type RecoveryReport } from './report';

export interface RecoveryOptions {
  /** Keep clean buffers (verified on first use) so the cache is warm; false drops them. */
  keepClean: boolean;
  /** Progress while writing dirty data (bytes done, bytes total). */
  onProgress?: (done: number, total: number) => void;
}

const O_PATH = 0o10000000;

/** (dev, ino) of what `path` names beneath the root, without following a final symlink; null if nothing. */
function identityAt(rootFd: number, path: string): { dev: number; ino: number } | null {
  let fd: number;
  try {
    fd = native.openBeneath(rootFd, path, O_PATH | fs.constants.O_NOFOLLOW, 0);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    return { dev: st.dev, ino: st.ino };
  } finally {
    fs.closeSync(fd);
  }
}

export function recoverRegion(region: Region, rootFd: number, options: RecoveryOptions): RecoveryReport {
  const started = process.hrtime.bigint();
  const report = emptyReport();
  report.ran = true;
  report.headerOtherSlot = region.otherSlotAtOpen;
  const g = region.geometry;
  const mem = region.memory;
  const reg = new Registry(mem, g);
  const sizes = new SizeTable(mem, g);
  const table = new FileTable(mem, g);
  const undo = new UndoLog(mem, g);
  const intent = new NamespaceIntent(mem);
  const bs = g.blockBytes;
  mem.commit(CONTROL_OFFSET / 4 + C.recoveringPid, process.pid);

  // 2. The file table through its selector, falling back entry by entry.
  const entries = readFileTable(table, report);

  // 3. Roll back an operation cut in the middle.
  const suspect = new Set<number>(); // buffers whose bytes a damaged undo area could not restore
  if (undo.isActive()) rollBack(region, reg, sizes, undo, new Segments(mem, g, rootFd), report, suspect);

  // 4. Complete a rename or unlink that was armed.
  completeIntent(intent, rootFd, entries, report);

  // Orphans (unlinked while open) have no reader left: their data goes nowhere.
  // A file a writeFile was creating (§6, UNNAMED) is the file its path names
  // if the cut fell after the link; before it, the unnamed inode died with the
  // process and the file never existed: its data goes nowhere either.
  for (let s = 0; s < entries.length; s++) {
    const e = entries[s];
    if (e.state === FILE_ORPHAN) {
      entries[s] = { ...e, state: FILE_FREE };
      report.orphanFilesFreed++;
    } else if (e.state === FILE_UNNAMED) {
      const id = identityAt(rootFd, e.path);
      const named = id !== null && id.dev === e.dev && id.ino === e.ino;
      entries[s] = { ...e, state: named ? FILE_ACTIVE : FILE_FREE };
      if (!named) report.unnamedFilesFreed++;
    }
  }

  // Sizes of the live files (falling back to the other slot when damaged).
  const fileSize = new Float64Array(g.fileSlots);
  const fileOk = new Uint8Array(g.fileSlots);
  for (let s = 0; s < entries.length; s++) {
    if (entries[s].state !== FILE_ACTIVE) continue;
    let st = sizes.readSlot(s);
    if (!st.valid) {
      const other = sizes.readSlot(s, ((mem.i32[g.sizeTableOffset / 4 + s * 16] & 1) ^ 1) as 0 | 1);
      report.problems.push(`size of file slot ${s} (${entries[s].path}) failed its check; ` +
        (other.valid ? 'used the other copy' : 'both copies damaged: its dirty buffers are quarantined'));
      if (!other.valid) continue;
      sizes.commit(s, other.size, other.zeroFrom, other.flags | SIZE_DIRTY);
      st = sizes.readSlot(s);
    }
    fileSize[s] = st.size;
    fileOk[s] = 1;
  }

  // 5. Lists: forward walks, cycles broken, back-links rewritten, lost members re-linked.
  const lru = new List(mem, reg, LRU);
  const dirtyList = new List(mem, reg, DIRTY_LIST);
  report.lists.lru = repairList(lru, reg, (b) => reg.state(b) !== FREE);
  report.lists.dirty = repairList(dirtyList, reg, (b) => (reg.state(b) & 2) !== 0);
  report.linksRepaired = report.lists.lru.backLinksRepaired + report.lists.dirty.backLinksRepaired +
    report.lists.lru.relinked + report.lists.dirty.relinked;

  // Which buffers belong where; a buffer of a file that is gone is dropped,
  // one whose file cannot be identified (damaged table) is quarantined.
  const quarantined: QuarantineRecord[] = [];
  const dirtyByFile = new Map<number, number[]>();
  const seen = new Map<string, number>();
  let dirtyBytes = 0;
  const drop = (b: number) => {
    if ((reg.state(b) & 2) !== 0) dirtyList.remove(b);
    lru.remove(b);
    reg.commit(b, FREE, 0, 0);
  };
  const save = (b: number, path: string, reason: string, expected: number, actual: number) => {
    const len = Math.max(0, Math.min(bs, reg.len(b)));
    const off = reg.viewOffset(b);
    quarantined.push(quarantine(rootFd, reg.bytes(b).subarray(off, off + len), {
      file: path, offset: reg.block(b) * bs, length: len, expectedCrc: expected, actualCrc: actual,
      regionUuid: region.header.uuid, buffer: b, detectedBy: 'recovery',
    }));
    report.problems.push(`buffer ${b} (${path} @ ${reg.block(b) * bs}): ${reason}; quarantined`);
    drop(b);
  };
  for (let b = 0; b < reg.count; b++) {
    const state = reg.state(b);
    if (state === FREE) continue;
    const slot = reg.file(b);
    const entry = slot >= 0 && slot < entries.length ? entries[slot] : EMPTY_ENTRY;
    const dirty = state === DIRTY || state === WRITING;
    if (dirty) report.dirtyBuffersFound++;
    if (entry.state !== FILE_ACTIVE || reg.fileGen(b) !== entry.generation) {
      if (dirty && (report.lostEntries.includes(slot) || report.fallbackEntries.includes(slot))) {
        const name = entry.state === FILE_ACTIVE ? entry.path : `<lost file slot ${slot}>`;
        save(b, name, 'its file-table entry is damaged', reg.crc(b), reg.compute(b, Math.min(bs, reg.len(b))));
      } else {
        drop(b);
        if (dirty) report.droppedWithFile++;
      }
      continue;
    }
    if (!fileOk[slot] || suspect.has(b)) {
      if (dirty) save(b, entry.path, suspect.has(b) ? 'the undo area could not restore it' : 'its size is damaged', reg.crc(b), 0);
      else drop(b);
      continue;
    }
    const key = `${slot}:${reg.block(b)}`;
    const twin = seen.get(key);
    if (twin !== undefined) {
      // Twins: a shadow write was cut between its commit and the old buffer's
      // release. The larger version is the newer (docs/format.md §4, "Twins").
      if (reg.version(b) === reg.version(twin)) {
        report.problems.push(`buffers ${twin} and ${b} both hold ${entry.path} block ${reg.block(b)} at the same version`);
        if (dirty) save(b, entry.path, 'duplicate of another buffer', reg.crc(b), 0);
        else drop(b);
        continue;
      }
      report.twinsResolved++;
      if (((reg.version(b) - reg.version(twin)) | 0) < 0) {
        drop(b); // the older one
        continue;
      }
      // The earlier twin is the older: take it back out of the counts, drop it.
      const list = dirtyByFile.get(slot);
      const at = list ? list.indexOf(twin) : -1;
      if (list && at >= 0) list.splice(at, 1);
      else if (reg.state(twin) === CLEAN && options.keepClean) report.cleanBuffersKept--;
      drop(twin);
    }
    seen.set(key, b);
    // Clamp to the size (invariant 5): bytes past it were never committed.
    const len = reg.len(b);
    const want = Math.max(0, Math.min(bs, fileSize[slot] - reg.block(b) * bs));
    if (len < 0 || len > bs) {
      if (dirty) save(b, entry.path, `impossible length ${len}`, reg.crc(b), 0);
      else drop(b);
      continue;
    }
    if (len > want) {
      const actual = reg.compute(b, len);
      if (actual !== reg.crc(b)) {
        if (dirty) save(b, entry.path, 'checksum mismatch', reg.crc(b), actual);
        else drop(b);
        continue;
      }
      report.buffersClamped++;
      if (want === 0) {
        drop(b);
        continue;
      }
      reg.commit(b, state, want, reg.compute(b, want));
    }
    if (dirty) {
      let list = dirtyByFile.get(slot);
      if (!list) dirtyByFile.set(slot, (list = []));
      list.push(b);
    } else if (!options.keepClean) {
      drop(b);
      report.cleanBuffersDropped++;
    } else {
      report.cleanBuffersKept++;
    }
  }

  // 6. Verify and write the dirty buffers, file by file, reading them through the region file (regionFile.ts).
  const regionFile = new RegionFile(region.fd, region.geometry.dataOffset, reg);
  for (const list of dirtyByFile.values()) for (const b of list) dirtyBytes += reg.len(b);
  let done = 0;
  options.onProgress?.(0, dirtyBytes);
  for (let s = 0; s < entries.length; s++) {
    const entry = entries[s];
    if (entry.state !== FILE_ACTIVE) continue;
    const buffers = dirtyByFile.get(s) ?? [];
    const st = sizes.readSlot(s);
    if (buffers.length === 0 && (st.flags & SIZE_DIRTY) === 0 && st.zeroFrom >= ZERO_NONE) continue;
    const result = writeFile(rootFd, reg, regionFile, sizes, dirtyList, s, entry, buffers, report, save, (n) => {
      done += n;
      options.onProgress?.(done, dirtyBytes);
    });
    if (result) report.filesTouched.push(entry.path);
  }
  report.quarantined = quarantined;
  report.corruptBuffers = quarantined.length;
  if (quarantined.length > 0) report.lostAndFound = LOST_AND_FOUND;

  // 7. The file table as decided, then the intent disarmed (in this order:
  //    a cut between them redoes an idempotent rewrite).
  const changes = new Map<number, FileEntry>();
  entries.forEach((e, s) => changes.set(s, e));
  table.adopt(entries);
  table.commit(changes);
  if (intent.read() !== null) intent.disarm();
  mem.commit(CONTROL_OFFSET / 4 + C.recoveringPid, 0);
  report.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  return report;
}

function readFileTable(table: FileTable, report: RecoveryReport): FileEntry[] {
  const sel = table.selected();
  const other = (1 - sel) as 0 | 1;
  report.fileTable.selectedCopy = sel;
  if (!table.headerValid(sel)) report.problems.push(`file table copy ${sel} has a damaged header`);
  const entries: FileEntry[] = [];
  for (let s = 0; s < table.slots; s++) {
    let v = table.readEntry(sel, s);
    if (!v.valid) {
      const alt = table.readEntry(other, s);
      if (alt.valid) {
        v = alt;
        report.fileTable.entriesFromOtherCopy++;
        // The other copy may lag by one update: buffers that do not match it are quarantined, not dropped.
        report.fallbackEntries.push(s);
        report.problems.push(`file table entry ${s} failed its checksum; took copy ${other}`);
      } else {
        report.fileTable.entriesLost++;
        report.lostEntries.push(s);
        report.problems.push(`file table entry ${s} is damaged in both copies; its dirty buffers are quarantined`);
        entries.push(EMPTY_ENTRY);
        continue;
      }
    }
    let entry = v.entry;
    if (entry.state !== FILE_FREE && !checkRelativePath(entry.path)) {
      // A path that could lead out of the root is never written to (G7).
      report.problems.push(`file table entry ${s} has an unsafe path ${JSON.stringify(entry.path)}; refused`);
      report.fileTable.entriesLost++;
      report.lostEntries.push(s);
      entry = EMPTY_ENTRY;
    }
    entries.push(entry);
  }
  return entries;
}

function rollBack(
  region: Region, reg: Registry, sizes: SizeTable, undo: UndoLog, segments: Segments,
  report: RecoveryReport, suspect: Set<number>,
): void {
  const mem = region.memory;
  const contents = undo.read();
  if (contents === null) {
    report.problems.push('the undo area is armed but its header is damaged: the interrupted operation cannot be rolled back');
    report.undo.damaged = true;
    undo.commit();
    return;
  }
  report.undo.rolledBack = true;
  report.undo.records = contents.records.length;
  for (let i = contents.records.length - 1; i >= 0; i--) {
    const r = contents.records[i];
    if (r.type === UNDO_BYTES_RECORD) {
      const b = r.buffer;
      if (b < 0 || b >= reg.count || reg.file(b) !== r.file || reg.block(b) !== r.block) {
        report.problems.push(`undo record names buffer ${b} for another block; skipped`);
        report.undo.restoreFailures++;
        continue;
      }
      if (r.count > 0) mem.move(reg.viewId(b), reg.viewOffset(b) + r.offset, mem.metaId, r.dataByte, r.count);
      reg.commit(b, r.oldStatus & STATE_MASK, r.oldLen, r.oldCrc);
    } else if (r.type === UNDO_SIZE_RECORD) {
      sizes.commit(r.file, r.size, r.zeroFrom, r.flags);
    } else if (r.type === UNDO_SEGMENT_RECORD) {
      const seg = segments.get(r.segment);
      if (seg && r.offset + r.count <= seg.length) mem.move(mem.metaId, seg.byte + r.offset, mem.metaId, r.dataByte, r.count);
      else report.problems.push(`undo record names segment ${r.segment}, which does not hold that range; skipped`);
    }
  }
  if (contents.damaged > 0) {
    report.undo.damaged = true;
    report.problems.push(`${contents.damaged} undo record(s) damaged: buffers of the interrupted write are quarantined`);
    // The interrupted write's own range: every buffer of it may be half-written.
    const from = Math.floor(contents.offset / reg.blockBytes);
    const to = Math.floor((contents.offset + Math.max(1, contents.length) - 1) / reg.blockBytes);
    for (let b = 0; b < reg.count; b++) {
      if (reg.state(b) !== FREE && reg.file(b) === contents.file && reg.block(b) >= from && reg.block(b) <= to) suspect.add(b);
    }
  }
  undo.commit();
}

function completeIntent(intent: NamespaceIntent, rootFd: number, entries: FileEntry[], report: RecoveryReport): void {
  const it = intent.read();
  if (it === null) return;
  if (it === 'damaged') {
    report.problems.push('a rename or unlink was armed but its record is damaged; left as the disk shows it');
    report.intent.damaged = true;
    return;
  }
  report.intent.operation = it.op === INTENT_RENAME ? 'rename' : it.op === INTENT_UNLINK ? 'unlink' : it.op === INTENT_REMOVE_TREE ? 'rm' : null;
  if (!checkRelativePath(it.from) || (it.op === INTENT_RENAME && !checkRelativePath(it.to))) {
    report.problems.push('an armed rename/unlink names an unsafe path; refused');
    return;
  }
  const same = (id: { dev: number; ino: number } | null) => id !== null && id.dev === it.dev && id.ino === it.ino;
  if (it.op === INTENT_UNLINK) {
    if (same(identityAt(rootFd, it.from))) {
      try {
        native.unlinkBeneath(rootFd, it.from, false);
        report.intent.diskStepRedone = true;
      } catch (err) {
        report.problems.push(`redoing unlink of ${it.from} failed: ${(err as Error).message}`);
      }
    }
    entries.forEach((e, s) => {
      if (e.state !== FILE_FREE && e.path === it.from && e.ino === it.ino) entries[s] = { ...e, state: FILE_FREE };
    });
    return;
  }
  if (it.op === INTENT_REMOVE_TREE) {
    completeRemoveTree(it, rootFd, entries, report);
    return;
  }
  if (it.op !== INTENT_RENAME) return;
  let done = same(identityAt(rootFd, it.to));
  if (!done && same(identityAt(rootFd, it.from))) {
    try {
      native.renameBeneath(rootFd, it.from, it.to);
      report.intent.diskStepRedone = true;
      done = true;
    } catch (err) {
      report.problems.push(`redoing rename ${it.from} -> ${it.to} failed: ${(err as Error).message}`);
    }
  }
  if (!done) return; // the disk never saw it: the table, unchanged, agrees
  renameEntries(entries, it.from, it.to, it.ino);
}

/**
 * An rm -r of a directory holding cached files, cut after arming: finish the
 * removal if the path still holds the recorded directory (what is left of it;
 * removing twice equals once), then free every entry beneath it whose path no
 * longer holds its inode. Those files are gone from the disk: their dirty
 * data goes nowhere, as it would have after the removal, and is never
 * written back to a path that no longer names them. Entries whose files
 * survived (a removal that failed half-way, on permissions) stay.
 */
function completeRemoveTree(it: Intent, rootFd: number, entries: FileEntry[], report: RecoveryReport): void {
  const top = identityAt(rootFd, it.from);
  if (top && top.dev === it.dev && top.ino === it.ino) {
    try {
      removeTree(rootFd, { key: it.from, os: it.from, shown: it.from });
      report.intent.diskStepRedone = true;
    } catch (err) {
      report.problems.push(`finishing rm -r of ${it.from} failed: ${(err as Error).message}`);
    }
  }
  entries.forEach((e, s) => {
    if (e.state !== FILE_ACTIVE || !(e.path === it.from || e.path.startsWith(it.from + '/'))) return;
    const id = identityAt(rootFd, e.path);
    if (!id || id.dev !== e.dev || id.ino !== e.ino) entries[s] = { ...e, state: FILE_FREE };
  });
}

/**
 * The file-table side of a rename, idempotent: a file at `to` that is not the
 * moved inode was replaced; entries under `from` move under `to`.
 */
export function renameEntries(entries: FileEntry[], from: string, to: string, movedIno: number): number[] {
  const changed: number[] = [];
  const under = `${from}/`;
  entries.forEach((e, s) => {
    if (e.state === FILE_FREE) return;
    if (e.path === to && e.ino !== movedIno) {
      entries[s] = { ...e, state: e.state === FILE_ACTIVE ? FILE_ORPHAN : e.state };
      changed.push(s);
    }
  });
  entries.forEach((e, s) => {
    if (e.state !== FILE_ACTIVE) return;
    if (e.path === from) entries[s] = { ...e, path: to };
    else if (e.path.startsWith(under)) entries[s] = { ...e, path: to + e.path.slice(from.length) };
    else return;
    changed.push(s);
  });
  return changed;
}

/**
 * CorrectList from the seed, bounded: walk forward from the head, stop at an
 * out-of-range link or a node already seen (a cycle), keep the members in
 * walk order, append members the walk missed, rewrite every link.
 */
function repairList(list: List, reg: Registry, isMember: (b: number) => boolean): ListRepair {
  const r: ListRepair = { walked: 0, cycleBroken: false, outOfRange: false, relinked: 0, backLinksRepaired: 0, dropped: 0 };
  const seen = new Uint8Array(reg.count);
  const order: number[] = [];
  let prev = NIL;
  let b = list.head();
  for (let steps = 0; b !== NIL; steps++) {
    if (b < 0 || b >= reg.count || steps >= reg.count) {
      r.outOfRange = b < 0 || b >= reg.count;
      break;
    }
    if (seen[b]) {
      r.cycleBroken = true;
      break;
    }
    seen[b] = 1;
    r.walked++;
    if (isMember(b)) {
      if (list.prev(b) !== prev) r.backLinksRepaired++;
      order.push(b);
      prev = b;
    } else {
      r.dropped++;
    }
    b = list.next(b);
  }
  for (let x = 0; x < reg.count; x++) {
    if (!seen[x] && isMember(x)) {
      order.push(x);
      r.relinked++;
    }
  }
  list.rebuild(order);
  return r;
}

type Save = (b: number, path: string, reason: string, expected: number, actual: number) => void;

/** Step 6 for one file. Returns true when the file was touched. */
function writeFile(
  rootFd: number, reg: Registry, regionFile: RegionFile, sizes: SizeTable, dirtyList: List, slot: number, entry: FileEntry,
  buffers: number[], report: RecoveryReport, save: Save, progress: (bytes: number) => void,
): boolean {
  const bs = reg.blockBytes;
  let fd: number;
  try {
    // Symlinks inside the root are followed as when the file was opened; the
    // inode check below refuses a path that now names another file.
    fd = native.openBeneath(rootFd, entry.path, fs.constants.O_RDWR, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EXDEV' ? 'its path leads out of the root' : `it cannot be opened (${code})`;
    for (const b of buffers) save(b, entry.path, `the file is gone or replaced: ${why}`, reg.crc(b), 0);
    return false;
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.ino !== entry.ino || st.dev !== entry.dev || !st.isFile()) {
      for (const b of buffers) save(b, entry.path, 'the path now names another file', reg.crc(b), 0);
      return false;
    }
    const s = sizes.readSlot(slot);
    if (s.zeroFrom < ZERO_NONE) {
      fs.ftruncateSync(fd, s.zeroFrom);
      sizes.commit(slot, s.size, ZERO_NONE, s.flags | SIZE_DIRTY);
    }
    // Every buffer of the file verified, in one native call, before any byte of it is written (G5).
    const sorted = buffers.sort((x, y) => reg.block(x) - reg.block(y));
    const { actual, mismatches } = regionFile.verify(sorted) ?? reg.verify(sorted);
    const good: number[] = mismatches === 0 ? sorted : [];
    if (mismatches > 0) {
      sorted.forEach((b, i) => {
        if (actual[i] === reg.crc(b)) good.push(b);
        else save(b, entry.path, 'checksum mismatch', reg.crc(b), actual[i]);
      });
    }
    // Runs of consecutive blocks, each copied from the region file to the data file in one native call.
    for (let i = 0; i < good.length; ) {
      const run: number[] = [];
      const lengths: number[] = [];
      const first = reg.block(good[i]);
      let bytes = 0;
      let j = i;
      for (; j < good.length && run.length < 512; j++) {
        const b = good[j];
        if (reg.block(b) !== first + (j - i)) break;
        const len = reg.len(b);
        run.push(b);
        lengths.push(len);
        bytes += len;
        if (len < bs) {
          j++;
          break; // a partial block ends a run
        }
      }
      regionFile.copy(fd, run, lengths, first * bs);
      report.bytesWritten += bytes;
      progress(bytes);
      i = j;
    }
    fs.ftruncateSync(fd, s.size);
    applyStamp(sizes, slot, fd); // the disk's mtime: the last write's, as the owner dated it
    fs.fdatasyncSync(fd);
    for (const b of good) {
      reg.commitState(b, CLEAN);
      dirtyList.remove(b);
      report.dirtyBuffersWritten++;
    }
    const after = sizes.readSlot(slot);
    sizes.commit(slot, after.size, ZERO_NONE, after.flags & ~SIZE_DIRTY);
    sizes.setStamp(slot, fs.fstatSync(fd).mtimeMs);
    return true;
  } catch (err) {
    // G10: whatever was not written stays dirty; the next open tries again.
    report.problems.push(`writing ${entry.path} failed: ${(err as Error).message}; its data stays dirty`);
    report.ioErrors++;
    return true;
  } finally {
    fs.closeSync(fd);
  }
}
