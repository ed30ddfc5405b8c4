/**
 * The undo area (docs/format.md §7): the old value of every live byte an
 * operation overwrites, saved before the first overwrite. Arming is an
 * Atomics.store of ACTIVE; the operation's commit is the Atomics.store of
 * IDLE. Records carry the operation's sequence number and their own checksum,
 * and recovery reads them in order while both hold, so a record can also be
 * appended while the area is ACTIVE (a transaction's setRange): a record cut
 * half-way fails its checksum, and the bytes it protects were not touched yet.
 * A write seals all its records before arming, so a cut while recording a
 * write leaves the area IDLE and changes nothing.
 */
import { mixWords } from '../region/checksum';
import {
  U, UNDO_ACTIVE, UNDO_BYTES_RECORD, UNDO_HEADER_BYTES, UNDO_IDLE, UNDO_RECORD_HEAD_BYTES, UNDO_SEGMENT_RECORD,
  UNDO_SIZE_RECORD, UR,
} from '../region/format';
import type { Geometry } from '../region/geometry';
import type { RegionMemory } from '../region/primitives';

export { UNDO_BYTES_RECORD, UNDO_SEGMENT_RECORD, UNDO_SIZE_RECORD };

const pad8 = (n: number) => (n + 7) & ~7;

export interface BytesRecord {
  type: typeof UNDO_BYTES_RECORD;
  buffer: number;
  file: number;
  block: number;
  offset: number;
  count: number;
  oldStatus: number;
  oldLen: number;
  oldCrc: number;
  /** Byte offset (within the region's metadata) of the saved bytes. */
  dataByte: number;
}

export interface SizeRecord {
  type: typeof UNDO_SIZE_RECORD;
  file: number;
  size: number;
  zeroFrom: number;
  flags: number;
}

export interface SegmentRecord {
  type: typeof UNDO_SEGMENT_RECORD;
  segment: number;
  offset: number;
  count: number;
  dataByte: number;
}

export type UndoRecord = BytesRecord | SizeRecord | SegmentRecord;

export interface UndoContents {
  kind: number;
  seq: number;
  file: number;
  offset: number;
  length: number;
  records: UndoRecord[];
  /** Records whose head failed its checksum (a damaged area). */
  damaged: number;
}

const HI = 2 ** 32;

export class UndoLog {
  private readonly headWord: number;
  private readonly recordsByte: number;
  readonly capacity: number;
  private cursor = 0; // bytes of records written for the operation being prepared
  private count = 0;
  private seq: number;
  /** Sequence number of the operation being prepared (seq + 1 until armed). */
  private opSeq = 0;

  constructor(private readonly mem: RegionMemory, g: Geometry) {
    this.headWord = g.undoOffset / 4;
    this.recordsByte = g.undoOffset + UNDO_HEADER_BYTES;
    this.capacity = g.undoBytes - UNDO_HEADER_BYTES;
    this.seq = mem.i32[this.headWord + U.seq];
  }

  isActive(): boolean {
    return this.mem.i32[this.headWord + U.state] === UNDO_ACTIVE;
  }

  /** Bytes a BYTES or SEGMENT record of `count` bytes takes. */
  static recordBytes(count: number): number {
    return UNDO_RECORD_HEAD_BYTES + pad8(count);
  }

  remaining(): number {
    return this.capacity - this.cursor;
  }

  /** Starts preparing an operation's records. Writes nothing yet. */
  begin(): void {
    if (this.isActive()) throw new Error('internal: undo area already active');
    this.cursor = 0;
    this.count = 0;
    this.opSeq = (this.seq + 1) | 0;
  }

  /**
   * Writes a record's head at the cursor. Callers copy the payload first:
   * the head's checksum is what makes a record count, so it goes last, and a
   * record cut before it is ignored (while ACTIVE, records are appended in
   * front of a recovery that may read them).
   */
  private head(type: number, a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number): number {
    const mem = this.mem;
    const byte = this.recordsByte + this.cursor;
    const w = byte / 4;
    mem.store(w, type);
    mem.store(w + 1, a);
    mem.store(w + 2, b);
    mem.store(w + 3, c);
    mem.store(w + 4, d);
    mem.store(w + 5, e);
    mem.store(w + 6, f);
    mem.store(w + 7, g);
    mem.store(w + 8, h);
    mem.store(w + 9, i);
    mem.store(w + UR.seq, this.opSeq);
    mem.store(w + UR.check, mixWords(mem.i32, w, UR.check));
    this.count++;
    return byte;
  }

  /** After a record is complete: the hints in the header (not checksummed). */
  private noteRecord(): void {
    this.mem.store(this.headWord + U.recordCount, this.count);
    this.mem.store(this.headWord + U.recordBytes, this.cursor);
  }

  /** Saves old bytes of a buffer; returns where (a byte offset in the metadata view) they were saved. */
  addBytes(buffer: number, file: number, block: number, offset: number, count: number, oldStatus: number,
    oldLen: number, oldCrc: number, srcViewId: number, srcOffset: number): number {
    const need = UndoLog.recordBytes(count);
    if (need > this.remaining()) throw new Error('internal: undo area overflow (the caller must size operations)');
    // The old bytes first, the head (and its checksum) after: see head().
    const saved = this.recordsByte + this.cursor + UNDO_RECORD_HEAD_BYTES;
    this.mem.move(this.mem.metaId, saved, srcViewId, srcOffset, count);
    this.head(UNDO_BYTES_RECORD, buffer, file, block % HI | 0, Math.floor(block / HI), offset, count, oldStatus, oldLen, oldCrc | 0);
    this.cursor += need;
    this.noteRecord();
    return saved;
  }

  addSize(file: number, size: number, zeroFrom: number, flags: number): void {
    if (UNDO_RECORD_HEAD_BYTES > this.remaining()) throw new Error('internal: undo area overflow');
    const zNone = zeroFrom >= Number.MAX_SAFE_INTEGER;
    this.head(UNDO_SIZE_RECORD, file, size % HI | 0, Math.floor(size / HI), zNone ? -1 : zeroFrom % HI | 0,
      zNone ? -1 : Math.floor(zeroFrom / HI), flags, 0, 0, 0);
    this.cursor += UNDO_RECORD_HEAD_BYTES;
    this.noteRecord();
  }

  addSegment(segment: number, offset: number, count: number, srcViewId: number, srcOffset: number): void {
    const need = UndoLog.recordBytes(count);
    if (need > this.remaining()) throw new Error('internal: undo area overflow');
    this.mem.move(this.mem.metaId, this.recordsByte + this.cursor + UNDO_RECORD_HEAD_BYTES, srcViewId, srcOffset, count);
    this.head(UNDO_SEGMENT_RECORD, segment, offset, count, 0, 0, 0, 0, 0, 0);
    this.cursor += need;
    this.noteRecord();
  }

  static headerCheck(i32: Int32Array, w: number): number {
    // seq and kind, then file, offset and length; the count words are hints.
    return mixWords(i32, w + U.file, 4, mixWords(i32, w + U.seq, 2));
  }

  /** Seals the header and arms the area: from here a cut rolls the operation back. */
  arm(kind: number, file: number, offset: number, length: number): void {
    const mem = this.mem;
    const w = this.headWord;
    this.seq = this.opSeq;
    mem.store(w + U.seq, this.seq);
    mem.store(w + U.kind, kind);
    mem.store(w + U.recordCount, this.count);
    mem.store(w + U.recordBytes, this.cursor);
    mem.store(w + U.file, file);
    mem.store(w + U.offsetLo, offset % HI | 0);
    mem.store(w + U.offsetHi, Math.floor(offset / HI));
    mem.store(w + U.length, length | 0);
    mem.store(w + U.check, UndoLog.headerCheck(mem.i32, w));
    mem.persist(mem.metaId, this.recordsByte - UNDO_HEADER_BYTES, UNDO_HEADER_BYTES + this.cursor);
    mem.commit(w + U.state, UNDO_ACTIVE);
    mem.persistWord(w + U.state);
  }

  /** Makes records appended while ACTIVE persistent before the bytes they protect change. */
  persistRecords(fromByte: number): void {
    this.mem.persist(this.mem.metaId, this.recordsByte + fromByte, this.cursor - fromByte);
  }

  /** Bytes of records written so far in the current operation. */
  get written(): number {
    return this.cursor;
  }

  /** The operation's commit point. */
  commit(): void {
    this.mem.commit(this.headWord + U.state, UNDO_IDLE);
    this.mem.persistWord(this.headWord + U.state);
  }

  /**
   * Reads an armed area for rollback: null when the header fails its
   * checksum (only a stray write can do that: records are sealed before ACTIVE).
   */
  read(): UndoContents | null {
    const i32 = this.mem.i32;
    const w = this.headWord;
    if (UndoLog.headerCheck(i32, w) !== i32[w + U.check]) return null;
    const seq = i32[w + U.seq];
    const expected = i32[w + U.recordCount];
    const records: UndoRecord[] = [];
    let cursor = 0;
    // Records in order while each is whole (checksum) and of this operation (seq).
    while (cursor + UNDO_RECORD_HEAD_BYTES <= this.capacity) {
      const byte = this.recordsByte + cursor;
      const r = byte / 4;
      const v = (k: number) => i32[r + k];
      if (mixWords(i32, r, UR.check) !== v(UR.check) || v(UR.seq) !== seq) break;
      const type = v(0);
      const payload = type === UNDO_SIZE_RECORD ? 0 : type === UNDO_BYTES_RECORD ? v(6) : v(3);
      if (payload < 0 || cursor + UndoLog.recordBytes(payload) > this.capacity) break;
      if (type === UNDO_BYTES_RECORD) {
        records.push({ type, buffer: v(1), file: v(2), block: (v(3) >>> 0) + (v(4) >>> 0) * HI, offset: v(5), count: v(6),
          oldStatus: v(7), oldLen: v(8), oldCrc: v(9) >>> 0, dataByte: byte + UNDO_RECORD_HEAD_BYTES });
        cursor += UndoLog.recordBytes(v(6));
      } else if (type === UNDO_SIZE_RECORD) {
        const zNone = v(4) === -1 && v(5) === -1;
        records.push({ type, file: v(1), size: (v(2) >>> 0) + (v(3) >>> 0) * HI,
          zeroFrom: zNone ? Number.MAX_SAFE_INTEGER : (v(4) >>> 0) + (v(5) >>> 0) * HI, flags: v(6) });
        cursor += UNDO_RECORD_HEAD_BYTES;
      } else if (type === UNDO_SEGMENT_RECORD) {
        records.push({ type, segment: v(1), offset: v(2), count: v(3), dataByte: byte + UNDO_RECORD_HEAD_BYTES });
        cursor += UndoLog.recordBytes(v(3));
      } else {
        break;
      }
    }
    // The count hint trails each record, so a whole record may exceed it by one
    // (a cut between the two); fewer whole records than it counts is damage.
    const damaged = Math.max(0, expected - records.length);
    return {
      kind: i32[w + U.kind], seq, file: i32[w + U.file],
      offset: (i32[w + U.offsetLo] >>> 0) + (i32[w + U.offsetHi] >>> 0) * HI, length: i32[w + U.length] >>> 0,
      records, damaged,
    };
  }
}

/** The word index of the undo state (for inspection). */
export function undoStateWord(g: Geometry): number {
  return g.undoOffset / 4 + U.state;
}
