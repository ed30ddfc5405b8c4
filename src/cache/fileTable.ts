/**
 * The file table (docs/format.md §6): which file each slot holds, as a path
 * relative to the root with its device and inode. Two copies and a selector:
 * an update writes the inactive copy and flips the selector with one
 * Atomics.store. The inactive copy lags the active one by exactly the entries
 * the previous update changed, so an update copies those across first instead
 * of the whole table.
 */
import { crc32cBytes } from '../region/checksum';
import {
  C, CONTROL_OFFSET, FE, FILE_ACTIVE, FILE_ENTRY_BYTES, FILE_ENTRY_WORDS, FILE_FREE, FILE_ORPHAN, FILE_PATH_BYTE,
  FILE_TABLE_HEADER_BYTES, FILE_TABLE_MAGIC, FILE_UNNAMED, FT, PATH_BYTES_MAX,
} from '../region/format';
import type { Geometry } from '../region/geometry';
import type { RegionMemory } from '../region/primitives';

export { FILE_ACTIVE, FILE_FREE, FILE_ORPHAN, FILE_UNNAMED, PATH_BYTES_MAX };

export interface FileEntry {
  state: number;
  generation: number;
  dev: number;
  ino: number;
  path: string;
}

export const EMPTY_ENTRY: FileEntry = { state: FILE_FREE, generation: 0, dev: 0, ino: 0, path: '' };

const HI = 2 ** 32;
const selectorWord = CONTROL_OFFSET / 4 + C.fileTableSelector;

export interface EntryVerdict {
  entry: FileEntry;
  valid: boolean;
}

export class FileTable {
  readonly slots: number;
  /** The selected copy's entries, mirrored. */
  readonly entries: FileEntry[];
  private readonly byPath = new Map<string, number>();
  private readonly offsets: [number, number];
  /** Entries in which the inactive copy differs from the active one. */
  private stale = new Set<number>();

  constructor(private readonly mem: RegionMemory, g: Geometry) {
    this.slots = g.fileSlots;
    this.offsets = g.fileTableOffsets;
    this.entries = new Array(g.fileSlots).fill(EMPTY_ENTRY);
  }

  selected(): 0 | 1 {
    return (this.mem.i32[selectorWord] & 1) as 0 | 1;
  }

  private entryByte(copy: 0 | 1, slot: number): number {
    return this.offsets[copy] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES;
  }

  /** Decodes and checks one entry of one copy. */
  readEntry(copy: 0 | 1, slot: number): EntryVerdict {
    const byte = this.entryByte(copy, slot);
    const w = byte / 4;
    const i32 = this.mem.i32;
    const pathBytes = i32[w + FE.pathBytes];
    if (pathBytes < 0 || pathBytes > PATH_BYTES_MAX) return { entry: EMPTY_ENTRY, valid: false };
    const crc = FileTable.entryCrc(this.mem.u8, byte, pathBytes);
    const entry: FileEntry = {
      state: i32[w + FE.state],
      generation: i32[w + FE.generation],
      dev: (i32[w + FE.devLo] >>> 0) + (i32[w + FE.devHi] >>> 0) * HI,
      ino: (i32[w + FE.inoLo] >>> 0) + (i32[w + FE.inoHi] >>> 0) * HI,
      path: Buffer.from(this.mem.u8.buffer, this.mem.u8.byteOffset + byte + FILE_PATH_BYTE, pathBytes).toString('utf8'),
    };
    const knownState = entry.state === FILE_FREE || entry.state === FILE_ACTIVE || entry.state === FILE_ORPHAN ||
      entry.state === FILE_UNNAMED;
    return { entry, valid: knownState && (crc | 0) === i32[w + FE.crc] };
  }

  static entryCrc(u8: Uint8Array, byte: number, pathBytes: number): number {
    const head = crc32cBytes(u8, byte, FE.crc * 4, 0);
    return crc32cBytes(u8, byte + FILE_PATH_BYTE, pathBytes, head);
  }

  headerValid(copy: 0 | 1): boolean {
    const w = this.offsets[copy] / 4;
    const i32 = this.mem.i32;
    return (
      i32[w + FT.magic] === FILE_TABLE_MAGIC &&
      i32[w + FT.slots] === this.slots &&
      i32[w + FT.entryBytes] === FILE_ENTRY_BYTES &&
      (crc32cBytes(this.mem.u8, this.offsets[copy], FT.check * 4, 0) | 0) === i32[w + FT.check]
    );
  }

  /**
   * Loads the mirror from the selected copy. Returns the slots whose entry
   * fails its checksum (none after a clean close; any means damage, and the
   * caller runs the recovery scan instead).
   */
  load(): number[] {
    const copy = this.selected();
    const bad: number[] = [];
    if (!this.headerValid(copy)) bad.push(-1);
    for (let s = 0; s < this.slots; s++) {
      const v = this.readEntry(copy, s);
      if (!v.valid) bad.push(s);
      this.setMirror(s, v.entry);
    }
    this.stale = new Set(Array.from({ length: this.slots }, (_, i) => i));
    return bad;
  }

  /** Installs entries decided by recovery as the mirror (then `resync` writes them). */
  adopt(entries: FileEntry[]): void {
    entries.forEach((e, s) => this.setMirror(s, e));
    this.stale = new Set(Array.from({ length: this.slots }, (_, i) => i));
  }

  private setMirror(slot: number, entry: FileEntry): void {
    const old = this.entries[slot];
    if (old.state === FILE_ACTIVE && this.byPath.get(old.path) === slot) this.byPath.delete(old.path);
    this.entries[slot] = entry;
    if (entry.state === FILE_ACTIVE) this.byPath.set(entry.path, slot);
  }

  slotOf(path: string): number {
    return this.byPath.get(path) ?? -1;
  }

  activeSlots(): number[] {
    return [...this.byPath.values()];
  }

  /** Slots of files created but never named (a clean close cut a creating writeFile short). */
  unnamedSlots(): number[] {
    const out: number[] = [];
    this.entries.forEach((e, s) => e.state === FILE_UNNAMED && out.push(s));
    return out;
  }

  /**
   * Applies `changes` as one atomic update: the inactive copy gets every
   * stale entry and every change, then the selector flips (the commit).
   */
  commit(changes: Map<number, FileEntry>): void {
    const mem = this.mem;
    const cur = this.selected();
    const next = (1 - cur) as 0 | 1;
    for (const slot of this.stale) {
      if (!changes.has(slot)) this.writeEntry(next, slot, this.entries[slot]);
    }
    for (const [slot, entry] of changes) this.writeEntry(next, slot, entry);
    const hw = this.offsets[next] / 4;
    const seq = (mem.i32[this.offsets[cur] / 4 + FT.seq] + 1) | 0;
    mem.store(hw + FT.magic, FILE_TABLE_MAGIC);
    mem.store(hw + FT.seq, seq);
    mem.store(hw + FT.slots, this.slots);
    mem.store(hw + FT.entryBytes, FILE_ENTRY_BYTES);
    // The header checksum covers words 0..14, all written above or zero.
    const headCrc = crc32cBytes(mem.u8, this.offsets[next], FT.check * 4, 0);
    mem.store(hw + FT.check, headCrc | 0);
    mem.persist(mem.metaId, this.offsets[next], FILE_TABLE_HEADER_BYTES + this.slots * FILE_ENTRY_BYTES);
    mem.commit(selectorWord, next);
    mem.persistWord(selectorWord);
    for (const [slot, entry] of changes) this.setMirror(slot, entry);
    this.stale = new Set(changes.keys());
  }

  private writeEntry(copy: 0 | 1, slot: number, e: FileEntry): void {
    const mem = this.mem;
    const byte = this.entryByte(copy, slot);
    const w = byte / 4;
    const path = Buffer.from(e.path, 'utf8');
    if (path.length > PATH_BYTES_MAX) throw new Error(`internal: path of ${path.length} bytes reached the file table`);
    mem.store(w + FE.state, e.state);
    mem.store(w + FE.generation, e.generation);
    mem.store(w + FE.devLo, e.dev % HI | 0);
    mem.store(w + FE.devHi, Math.floor(e.dev / HI));
    mem.store(w + FE.inoLo, e.ino % HI | 0);
    mem.store(w + FE.inoHi, Math.floor(e.ino / HI));
    mem.store(w + FE.pathBytes, path.length);
    for (let k = FE.pathBytes + 1; k < FE.crc; k++) if (mem.i32[w + k] !== 0) mem.store(w + k, 0);
    mem.writeBytes(mem.metaId, byte + FILE_PATH_BYTE, path);
    mem.store(w + FE.crc, FileTable.entryCrc(mem.u8, byte, path.length) | 0);
  }

  /** Words per entry, for inspection tools. */
  static readonly entryWords = FILE_ENTRY_WORDS;
}
