/**
 * The redo journal of flushed transactions (`endTransaction({ flush: true })`):
 * a file next to the data, `<root>/.riocache/journal`, that makes a meld
 * survive a kernel crash or power loss, which the region (in tmpfs) does not.
 *
 * A flushed commit appends the meld's redo records (the bytes it wrote to
 * each file range and to each declared segment range, each with a crc32c)
 * and a commit record, in one write, then one fdatasync; only then does the
 * region commit. The cache installs the data afterwards by ordinary
 * write-back. A checkpoint (write back the journal's files and segments,
 * sync them, empty the journal) runs before any fsync of a file the journal
 * touches, at flush and close, and when the journal grows past its limit, so
 * replaying it can never overwrite newer data that was made durable.
 *
 * When the region survives a crash, it is authoritative and the journal is
 * emptied after the warm reboot. When the region is lost (created afresh at
 * open), committed melds are replayed from the journal, in order; a torn or
 * uncommitted tail is ignored. Replaying twice writes the same bytes.
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { writeAllSync } from './writeAll';

export const JOURNAL_PATH = '.riocache/journal';
const MAGIC = 0x314a5252; // 'RRJ1'
const HEAD = 16; // magic, type, payload bytes, crc
const REDO_FILE = 1;
const REDO_SEGMENT = 2;
const COMMIT = 3;

export interface RedoFile {
  path: string;
  offset: number;
  data: Uint8Array;
}

export interface RedoSegment {
  name: string;
  /** The segment's size (a lost region recreates it). */
  segmentLength: number;
  offset: number;
  data: Uint8Array;
}

export interface Meld {
  id: number;
  files: RedoFile[];
  segments: RedoSegment[];
}

function record(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEAD);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(type, 4);
  head.writeUInt32LE(payload.length, 8);
  const crc = native.crc32c(payload, 0, payload.length, native.crc32c(head, 0, 12, 0));
  head.writeUInt32LE(crc, 12);
  return Buffer.concat([head, payload]);
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(n % 2 ** 32, 0);
  b.writeUInt32LE(Math.floor(n / 2 ** 32), 4);
  return b;
}

/** The bytes appended for one meld: redo records, then its commit record. */
export function encodeMeld(m: Meld): Buffer[] {
  const out: Buffer[] = [];
  for (const f of m.files) {
    const path = Buffer.from(f.path);
    const fixed = Buffer.alloc(8);
    fixed.writeUInt32LE(path.length, 0);
    fixed.writeUInt32LE(f.data.length, 4);
    out.push(record(REDO_FILE, Buffer.concat([u64(m.id), fixed, u64(f.offset), path, f.data])));
  }
  for (const s of m.segments) {
    const name = Buffer.from(s.name);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt32LE(name.length, 0);
    fixed.writeUInt32LE(s.data.length, 4);
    fixed.writeUInt32LE(s.segmentLength, 8);
    out.push(record(REDO_SEGMENT, Buffer.concat([u64(m.id), fixed, u64(s.offset), name, s.data])));
  }
  const commit = Buffer.alloc(12);
  commit.writeUInt32LE(m.files.length + m.segments.length, 8);
  out.push(record(COMMIT, Buffer.concat([u64(m.id), commit.subarray(8)])));
  return out;
}

/** Committed melds of a journal, in order; stops at the first torn or damaged record. */
export function decodeJournal(bytes: Buffer): { melds: Meld[]; tornTail: boolean } {
  const melds: Meld[] = [];
  let open: Meld | null = null;
  let at = 0;
  const id64 = (b: Buffer, o: number) => b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 2 ** 32;
  while (at + HEAD <= bytes.length) {
    if (bytes.readUInt32LE(at) !== MAGIC) break;
    const type = bytes.readUInt32LE(at + 4);
    const length = bytes.readUInt32LE(at + 8);
    if (at + HEAD + length > bytes.length) break;
    const payload = bytes.subarray(at + HEAD, at + HEAD + length);
    const crc = native.crc32c(payload, 0, length, native.crc32c(bytes, at, 12, 0));
    if (crc !== bytes.readUInt32LE(at + 12)) break;
    at += HEAD + length;
    const id = id64(payload, 0);
    if (!open || open.id !== id) open = { id, files: [], segments: [] };
    if (type === REDO_FILE) {
      const pathBytes = payload.readUInt32LE(8);
      const dataBytes = payload.readUInt32LE(12);
      const offset = id64(payload, 16);
      const path = payload.subarray(24, 24 + pathBytes).toString('utf8');
      open.files.push({ path, offset, data: payload.subarray(24 + pathBytes, 24 + pathBytes + dataBytes) });
    } else if (type === REDO_SEGMENT) {
      const nameBytes = payload.readUInt32LE(8);
      const dataBytes = payload.readUInt32LE(12);
      const segmentLength = payload.readUInt32LE(16);
      const offset = id64(payload, 20);
      const name = payload.subarray(28, 28 + nameBytes).toString('utf8');
      open.segments.push({ name, segmentLength, offset, data: payload.subarray(28 + nameBytes, 28 + nameBytes + dataBytes) });
    } else if (type === COMMIT) {
      if (payload.readUInt32LE(8) === open.files.length + open.segments.length) melds.push(open);
      open = null;
    } else {
      break;
    }
  }
  return { melds, tornTail: at < bytes.length };
}

export class Journal {
  private fd = -1;
  private size = 0;
  /** Paths and segment names the journal's melds touched since the last checkpoint. */
  readonly touchedFiles = new Set<string>();
  readonly touchedSegments = new Set<string>();
  private nextId = 1;

  constructor(private readonly rootFd: number, readonly limitBytes = 64 * 1024 * 1024) {}

  private ensureOpen(): void {
    if (this.fd >= 0) return;
    try {
      native.mkdirBeneath(this.rootFd, '.riocache', 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.fd = native.openBeneath(this.rootFd, JOURNAL_PATH, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  get isEmpty(): boolean {
    return this.touchedFiles.size === 0 && this.touchedSegments.size === 0 && this.size === 0;
  }

  get bytes(): number {
    return this.size;
  }

  /** Appends a meld and syncs it: after this returns, the meld survives a kernel crash. */
  append(files: RedoFile[], segments: RedoSegment[]): void {
    this.ensureOpen();
    const parts = encodeMeld({ id: this.nextId++, files, segments });
    const total = parts.reduce((n, p) => n + p.length, 0);
    writeAllSync(this.fd, parts, this.size);
    fs.fdatasyncSync(this.fd);
    this.size += total;
    for (const f of files) this.touchedFiles.add(f.path);
    for (const s of segments) this.touchedSegments.add(s.name);
  }

  /** Empties the journal (after its files and segments were written back and synced). */
  truncate(): void {
    this.touchedFiles.clear();
    this.touchedSegments.clear();
    if (this.fd < 0) {
      // Nothing appended in this session: empty a journal left by an earlier one, if any.
      try {
        const fd = native.openBeneath(this.rootFd, JOURNAL_PATH, fs.constants.O_RDWR, 0);
        try {
          if (fs.fstatSync(fd).size > 0) {
            fs.ftruncateSync(fd, 0);
            fs.fdatasyncSync(fd);
          }
        } finally {
          fs.closeSync(fd);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return;
    }
    if (this.size === 0) return;
    fs.ftruncateSync(this.fd, 0);
    fs.fdatasyncSync(this.fd);
    this.size = 0;
  }

  /** The committed melds of the journal on disk (for a replay into a lost region's files). */
  read(): { melds: Meld[]; tornTail: boolean } {
    let fd: number;
    try {
      fd = native.openBeneath(this.rootFd, JOURNAL_PATH, fs.constants.O_RDONLY, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { melds: [], tornTail: false };
      throw err;
    }
    try {
      return decodeJournal(fs.readFileSync(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
