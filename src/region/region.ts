/**
 * A region file: created, validated, locked, mapped and closed here. This
 * module decides nothing about the cache inside; it hands out a RegionMemory
 * and keeps the header (docs/format.md §2).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { native } from '../native';
import { regionError } from '../errors';
import {
  C, CONTROL_OFFSET, D, DESCRIPTOR_WORDS, FE, FILE_TABLE_MAGIC, FT, FILE_TABLE_HEADER_BYTES, FILE_ENTRY_BYTES,
  H, HEADER_SLOT_BYTES, HEADER_SLOT_OFFSETS, NIL, PAGE_BYTES,
} from './format';
import { computeGeometry, endOfData, type Geometry, type GeometryRequest } from './geometry';
import { chooseHeader, encodeHeader, type Header, type HeaderChoice } from './header';
import { RegionMemory, type PersistMode } from './primitives';

export type AllocateMode = 'sparse' | 'reserve';

export interface OpenRegionOptions {
  /** Create the region when the file does not exist. */
  create: boolean;
  /** Geometry for a new region. */
  request: GeometryRequest;
  /** The options the caller set explicitly: an existing region must agree with them. */
  expect: Partial<Pick<GeometryRequest, 'regionBytes' | 'blockBytes' | 'fileSlots' | 'undoBytes' | 'segmentAreaBytes'>>;
  /** 'reserve' allocates the file's blocks at creation, so later stores cannot hit SIGBUS on a full tmpfs. */
  allocate: AllocateMode;
  /** Fault every page in at map time. */
  populate: boolean;
  persist: PersistMode | 'auto';
}

/**
 * Regions this process owns, by device:inode. F_GETLK never reports the
 * caller's own locks, so a second open inside the owning process learns the
 * owner from here.
 */
const ownedHere = new Set<string>();

function identity(fd: number): string {
  const st = fs.fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

export class Region {
  private closed = false;
  /** The header slot the current header lives in. */
  private slot: 0 | 1;

  private constructor(
    readonly path: string,
    readonly fd: number,
    readonly geometry: Geometry,
    private current: Header,
    slot: 0 | 1,
    readonly memory: RegionMemory,
    private readonly handle: object,
    /** True when this call created the file. */
    readonly created: boolean,
    /** What the other header slot held when the region was opened. */
    readonly otherSlotAtOpen: HeaderChoice['other'],
    private readonly identity: string,
  ) {
    this.slot = slot;
    this.foundShutdown = current.shutdown;
  }

  /** The state the header had when this process opened the region: 'open' means its owner died. */
  readonly foundShutdown: Header['shutdown'];

  get header(): Header {
    return this.current;
  }

  static open(path: string, options: OpenRegionOptions): Region {
    let fd: number;
    let created = false;
    try {
      fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !options.create) throw err;
      const made = createRegionFile(path, options);
      if (made === null) return Region.open(path, { ...options, create: false }); // lost a creation race
      fd = made;
      created = true;
    }
    try {
      return Region.attach(path, fd, options, created);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  private static attach(path: string, fd: number, options: OpenRegionOptions, created: boolean): Region {
    const id = identity(fd);
    if (!created) {
      let owner = native.lockTry(fd);
      if (owner === -1 && ownedHere.has(id)) owner = process.pid;
      if (owner !== 0) {
        const who = owner > 0 ? `process ${owner}` : 'another process (pid unknown)';
        throw regionError(
          'REGION_LOCKED',
          `${path} is owned by ${who}. One process at a time owns a region; stop that process, ` +
            'or open a different region.',
          owner > 0 ? { pid: owner } : {},
        );
      }
    }
    const { header, slot, other } = readAndValidate(path, fd, options);
    const g = header.geometry;
    const persist = options.persist === 'auto' ? autoPersistMode(path) : options.persist;
    const ranges: Array<[number, number]> = [[0, g.dataOffset]];
    for (let off = g.dataOffset; off < endOfData(g); off += g.dataViewBytes) {
      ranges.push([off, Math.min(g.dataViewBytes, endOfData(g) - off)]);
    }
    const mapping = native.map(fd, g.regionBytes, ranges, options.populate);
    const memory = new RegionMemory(
      mapping.views[0], mapping.viewIds[0], mapping.views.slice(1), mapping.viewIds.slice(1),
      g.dataOffset, g.dataViewBytes, mapping.handle, persist,
    );
    ownedHere.add(id);
    return new Region(path, fd, g, header, slot, memory, mapping.handle, created, other, id);
  }

  /**
   * Replaces the header (docs/format.md §2, "Update"): every field into the
   * slot that is not current, the sequence last. A cut before the sequence
   * store leaves the current slot valid and newer.
   */
  writeHeader(changes: Partial<Omit<Header, 'version' | 'seq' | 'geometry' | 'uuid' | 'createdAt'>>): Header {
    this.assertOpen();
    const next: Header = { ...this.current, ...changes, seq: (this.current.seq + 1) >>> 0 };
    const bytes = encodeHeader(next);
    const target = (1 - this.slot) as 0 | 1;
    const base = HEADER_SLOT_OFFSETS[target];
    const m = this.memory;
    // Everything but the sequence word, then the sequence as the commit.
    m.writeBytes(m.metaId, base, bytes.subarray(0, H.seq));
    m.writeBytes(m.metaId, base + H.seq + 4, bytes.subarray(H.seq + 4));
    m.persist(m.metaId, base, bytes.length);
    m.commit((base + H.seq) / 4, next.seq | 0);
    m.persistWord((base + H.seq) / 4);
    this.slot = target;
    this.current = next;
    return next;
  }

  /** Unmaps and releases the lock. Safe to call twice. Does not change the header. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    ownedHere.delete(this.identity);
    this.memory.unmapped = true;
    native.unmap(this.handle);
    try {
      native.unlock(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw regionError('REGION_CLOSED', `${this.path} is closed.`);
  }
}

/** Reads the first pages with pread and validates them; the file is not written. */
function readAndValidate(path: string, fd: number, options: OpenRegionOptions): HeaderChoice {
  const size = fs.fstatSync(fd).size;
  const minimum = HEADER_SLOT_BYTES * 2;
  if (size < minimum) {
    throw regionError(
      'REGION_TOO_SMALL',
      `${path} is ${size} bytes, shorter than the ${minimum}-byte header of a region. It is not a ` +
        'complete region; move it aside (nothing was changed).',
    );
  }
  const first = Buffer.alloc(minimum);
  fs.readSync(fd, first, 0, minimum, 0);
  const choice = chooseHeader(first, path);
  const g = choice.header.geometry;
  if (size < g.regionBytes) {
    throw regionError(
      'REGION_TRUNCATED',
      `${path} is ${size} bytes but its header says ${g.regionBytes}. The file was cut short; its data ` +
        'cannot be trusted. Move it aside and inspect it with `riocache inspect` (nothing was changed).',
    );
  }
  // The stored layout must be the one this version computes from the same request.
  let expected: Geometry;
  let why = '';
  try {
    expected = computeGeometry({
      regionBytes: g.regionBytes, blockBytes: g.blockBytes, fileSlots: g.fileSlots,
      undoBytes: g.undoBytes, segmentAreaBytes: g.segmentAreaBytes,
    });
  } catch (err) {
    expected = { ...g, bufferCount: -1 };
    why = ` (${(err as Error).message})`;
  }
  if (JSON.stringify(expected) !== JSON.stringify(g)) {
    throw regionError(
      'REGION_HEADER_CORRUPT',
      `the header of ${path} passes its checksum but describes an impossible layout${why}. ` +
        'Move the file aside and inspect it with `riocache inspect`.',
    );
  }
  const mismatches: string[] = [];
  const e = options.expect;
  if (e.regionBytes !== undefined && e.regionBytes !== g.regionBytes) mismatches.push(`size ${g.regionBytes} (asked ${e.regionBytes})`);
  if (e.blockBytes !== undefined && e.blockBytes !== g.blockBytes) mismatches.push(`blockSize ${g.blockBytes} (asked ${e.blockBytes})`);
  if (e.fileSlots !== undefined && e.fileSlots !== g.fileSlots) mismatches.push(`maxFiles ${g.fileSlots} (asked ${e.fileSlots})`);
  if (e.undoBytes !== undefined && e.undoBytes !== g.undoBytes) mismatches.push(`undoSize ${g.undoBytes} (asked ${e.undoBytes})`);
  if (e.segmentAreaBytes !== undefined && e.segmentAreaBytes !== g.segmentAreaBytes) {
    mismatches.push(`segmentAreaSize ${g.segmentAreaBytes} (asked ${e.segmentAreaBytes})`);
  }
  if (mismatches.length > 0) {
    throw regionError(
      'REGION_GEOMETRY_MISMATCH',
      `${path} exists with ${mismatches.join(', ')}. riocache does not reformat an existing region: ` +
        'drop those options to use it as it is, or choose another region path.',
    );
  }
  return choice;
}

/**
 * Creates and formats a region under a temporary name, then links it into
 * place, so no other process ever sees a half-formatted region. Returns the
 * locked descriptor, or null when another process created the path first.
 */
function createRegionFile(path: string, options: OpenRegionOptions): number | null {
  const g = computeGeometry(options.request);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    if (native.lockTry(fd) !== 0) throw new Error('could not lock a freshly created region file');
    fs.ftruncateSync(fd, g.regionBytes);
    if (options.allocate === 'reserve') native.allocate(fd, 0, g.regionBytes);
    formatRegion(fd, g);
    try {
      fs.linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        fs.closeSync(fd);
        return null;
      }
      throw err;
    }
    return fd;
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Writes the initial metadata with pwrite: nobody can see the file yet. */
function formatRegion(fd: number, g: Geometry): void {
  const header: Header = {
    version: 1, seq: 1, shutdown: 'clean', geometry: g, uuid: randomUUID(), generation: 0,
    createdAt: Date.now(), lastPid: process.pid,
  };
  fs.writeSync(fd, encodeHeader(header), 0, undefined, HEADER_SLOT_OFFSETS[0]);
  const control = new Int32Array(PAGE_BYTES / 4);
  control[C.lruHead] = control[C.lruTail] = control[C.dirtyHead] = control[C.dirtyTail] = NIL;
  fs.writeSync(fd, control, 0, undefined, CONTROL_OFFSET);
  // Descriptors: FREE with empty links, written a chunk at a time.
  const perChunk = 4096;
  const chunk = new Int32Array(perChunk * DESCRIPTOR_WORDS);
  for (let i = 0; i < perChunk; i++) {
    const w = i * DESCRIPTOR_WORDS;
    chunk[w + D.lruNext] = chunk[w + D.lruPrev] = chunk[w + D.dirtyNext] = chunk[w + D.dirtyPrev] = NIL;
  }
  for (let first = 0; first < g.bufferCount; first += perChunk) {
    const count = Math.min(perChunk, g.bufferCount - first);
    fs.writeSync(fd, chunk, 0, count * DESCRIPTOR_WORDS * 4, g.registryOffset + first * DESCRIPTOR_WORDS * 4);
  }
  // File table copies: header, then FREE entries, each with its checksum.
  const table = new Int32Array((FILE_TABLE_HEADER_BYTES + g.fileSlots * FILE_ENTRY_BYTES) / 4);
  table[FT.magic] = FILE_TABLE_MAGIC;
  table[FT.seq] = 1;
  table[FT.slots] = g.fileSlots;
  table[FT.entryBytes] = FILE_ENTRY_BYTES;
  table[FT.check] = native.crc32c(table, 0, FT.check * 4, 0) | 0;
  const freeEntryCrc = native.crc32c(new Uint8Array(FE.crc * 4), 0, FE.crc * 4, 0) | 0;
  for (let s = 0; s < g.fileSlots; s++) table[(FILE_TABLE_HEADER_BYTES + s * FILE_ENTRY_BYTES) / 4 + FE.crc] = freeEntryCrc;
  for (const off of g.fileTableOffsets) fs.writeSync(fd, table, 0, undefined, off);
  // The size table and the undo header are all-zero (empty, IDLE) already.
}

/**
 * 'none' where the region lives in tmpfs or another memory filesystem (its
 * pages outlive the process; flushing buys nothing), 'cpu' on a DAX mount,
 * 'none' elsewhere too: the guarantee is against process death, and a kernel
 * crash is covered by fsync (G4), not by msync of every commit.
 * RIOCACHE_PERSIST=none|cpu|msync forces a mode.
 */
export function autoPersistMode(path: string): PersistMode {
  const forced = process.env.RIOCACHE_PERSIST;
  if (forced === 'none' || forced === 'cpu' || forced === 'msync') return forced;
  try {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
    const real = fs.realpathSync(dirname(path));
    let best: string[] | undefined;
    for (const m of mounts) {
      if (m.length < 4) continue;
      if ((real === m[1] || real.startsWith(m[1].endsWith('/') ? m[1] : m[1] + '/')) && (!best || m[1].length > best[1].length)) best = m;
    }
    if (best && best[3].split(',').includes('dax')) return 'cpu';
  } catch {
    /* no /proc: fall through */
  }
  return 'none';
}
