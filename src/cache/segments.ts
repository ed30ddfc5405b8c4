/**
 * Recoverable segments (LRVM's mapped regions; docs/format.md §8): named,
 * fixed-size areas of the region handed out as typed-array views. They
 * survive process death like everything in the region; a transaction's
 * setRange protects their bytes with undo records. Each segment also has a
 * backing file under `<root>/.riocache/segments/`, written at checkpoints,
 * from which a lost region's segments are rebuilt before the journal of
 * flushed transactions is replayed.
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { invalidType, invalidValue, outOfRange, regionError } from '../errors';
import { crc32cBytes } from '../region/checksum';
import { SEGMENT_DIRECTORY_ENTRIES, SEGMENT_ENTRY_BYTES, SEGMENT_NAME_BYTES_MAX } from '../region/format';
import type { Geometry } from '../region/geometry';
import type { RegionMemory } from '../region/primitives';

/** Entry words: 0 state (Atomics), 1 name bytes, 2 offset (from the area), 3 length, 4..13 name, 15 crc. */
const E = { state: 0, nameBytes: 1, offset: 2, length: 3, name: 4, crc: 15 } as const;
const USED = 1;
const DIRECTORY_BYTES = SEGMENT_DIRECTORY_ENTRIES * SEGMENT_ENTRY_BYTES;
const ALIGN = 64;

export const SEGMENT_DIRECTORY = '.riocache/segments';

export interface Segment {
  index: number;
  name: string;
  /** Offset of the bytes within the metadata view. */
  byte: number;
  length: number;
  view: Uint8Array;
}

export class Segments {
  private readonly base: number;
  private readonly bytes: number;
  private readonly byName = new Map<string, Segment>();
  private readonly byIndex = new Map<number, Segment>();

  constructor(private readonly mem: RegionMemory, g: Geometry, private readonly rootFd: number) {
    this.base = g.segmentAreaOffset;
    this.bytes = g.segmentAreaBytes;
    if (this.bytes > 0) this.load();
  }

  private entryWord(i: number): number {
    return (this.base + i * SEGMENT_ENTRY_BYTES) / 4;
  }

  private entryCrc(i: number): number {
    const byte = this.base + i * SEGMENT_ENTRY_BYTES;
    return crc32cBytes(this.mem.u8, byte + 4, E.crc * 4 - 4, USED) | 0;
  }

  private load(): void {
    const i32 = this.mem.i32;
    for (let i = 0; i < SEGMENT_DIRECTORY_ENTRIES; i++) {
      const w = this.entryWord(i);
      if (i32[w + E.state] !== USED) continue;
      if (this.entryCrc(i) !== i32[w + E.crc]) continue; // a damaged entry: the segment is not handed out
      const nameBytes = i32[w + E.nameBytes];
      const name = Buffer.from(this.mem.u8.buffer, this.mem.u8.byteOffset + (w + E.name) * 4, nameBytes).toString('utf8');
      this.add(i, name, i32[w + E.offset], i32[w + E.length]);
    }
  }

  private add(index: number, name: string, offset: number, length: number): Segment {
    const byte = this.base + offset;
    const seg: Segment = { index, name, byte, length, view: new Uint8Array(this.mem.u8.buffer, this.mem.u8.byteOffset + byte, length) };
    this.byName.set(name, seg);
    this.byIndex.set(index, seg);
    return seg;
  }

  get(index: number): Segment | undefined {
    return this.byIndex.get(index);
  }

  all(): Segment[] {
    return [...this.byIndex.values()];
  }

  /** The named segment; created (zero-filled, or from its backing file) on first use. */
  open(name: unknown, bytes: unknown): Segment {
    // Node's split: the wrong type is ERR_INVALID_ARG_TYPE, a string that is not a segment name ERR_INVALID_ARG_VALUE.
    if (typeof name !== 'string') throw invalidType('name', 'of type string', name);
    if (!/^[A-Za-z0-9._-]+$/.test(name) || Buffer.byteLength(name) > SEGMENT_NAME_BYTES_MAX) {
      throw invalidValue('name', `must be 1 to ${SEGMENT_NAME_BYTES_MAX} characters from [A-Za-z0-9._-]`, name);
    }
    if (typeof bytes !== 'number') throw invalidType('bytes', 'of type number', bytes);
    if (!Number.isInteger(bytes) || bytes <= 0) throw outOfRange('bytes', 'a positive integer', bytes);
    const existing = this.byName.get(name);
    if (existing) {
      if (existing.length !== bytes) {
        throw outOfRange('bytes', `${existing.length}, the size segment "${name}" was created with`, bytes);
      }
      return existing;
    }
    if (this.bytes === 0) {
      throw regionError('SEGMENT_AREA_FULL', 'this region has no segment area. Create it with the segmentAreaSize option ' +
        '(e.g. segmentAreaSize: "16MiB") to use segments.');
    }
    let index = -1;
    let end = DIRECTORY_BYTES;
    for (let i = 0; i < SEGMENT_DIRECTORY_ENTRIES; i++) {
      const seg = this.byIndex.get(i);
      if (seg) end = Math.max(end, seg.byte - this.base + seg.length);
      else if (index < 0 && this.mem.i32[this.entryWord(i) + E.state] !== USED) index = i;
    }
    const offset = Math.ceil(end / ALIGN) * ALIGN;
    if (index < 0 || offset + bytes > this.bytes) {
      throw regionError('SEGMENT_AREA_FULL', `no room for segment "${name}" of ${bytes} bytes ` +
        `(${this.bytes - offset} bytes and ${index < 0 ? 0 : 1}+ directory entries left). Use a region with a larger segmentAreaSize.`);
    }
    // Contents first (zeros, or the backing file of a lost region), then the entry, then its state: the commit.
    const seg = { index, name, byte: this.base + offset, length: bytes };
    this.mem.fill(this.mem.metaId, seg.byte, bytes, 0);
    const backing = this.readBacking(name, bytes);
    if (backing) this.mem.writeBytes(this.mem.metaId, seg.byte, backing);
    const w = this.entryWord(index);
    const nameBuf = Buffer.alloc(40);
    Buffer.from(name).copy(nameBuf);
    this.mem.store(w + E.nameBytes, Buffer.byteLength(name));
    this.mem.store(w + E.offset, offset);
    this.mem.store(w + E.length, bytes);
    this.mem.writeBytes(this.mem.metaId, (w + E.name) * 4, nameBuf);
    this.mem.store(w + E.crc, this.entryCrc(index));
    this.mem.persist(this.mem.metaId, seg.byte, bytes);
    this.mem.commit(w + E.state, USED);
    return this.add(index, name, offset, bytes);
  }

  private readBacking(name: string, bytes: number): Buffer | null {
    let fd: number;
    try {
      fd = native.openBeneath(this.rootFd, `${SEGMENT_DIRECTORY}/${name}`, fs.constants.O_RDONLY, 0);
    } catch {
      return null;
    }
    try {
      const buf = Buffer.alloc(bytes);
      fs.readSync(fd, buf, 0, bytes, 0);
      return buf;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Writes every segment to its backing file and syncs it (a checkpoint). */
  install(): void {
    if (this.byIndex.size === 0) return;
    for (const dir of ['.riocache', SEGMENT_DIRECTORY]) {
      try {
        native.mkdirBeneath(this.rootFd, dir, 0o700);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    for (const seg of this.byIndex.values()) {
      const fd = native.openBeneath(this.rootFd, `${SEGMENT_DIRECTORY}/${seg.name}`, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
      try {
        let done = 0;
        while (done < seg.length) done += fs.writeSync(fd, seg.view, done, seg.length - done, done);
        fs.ftruncateSync(fd, seg.length);
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}
