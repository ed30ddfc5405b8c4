/**
 * The region header (docs/format.md §2): encoding, validation of the two
 * slots, and the choice between them. Pure functions over bytes; the only code
 * that stores a header into a mapped region is Region.writeHeader, through the
 * primitives.
 */
import { native } from '../native';
import { regionError } from '../errors';
import {
  FORMAT_VERSION, H, HEADER_CHECKED_BYTES, HEADER_SLOT_BYTES, HEADER_SLOT_OFFSETS, MAGIC,
  SHUTDOWN_CLEAN, SHUTDOWN_OPEN,
} from './format';
import type { Geometry } from './geometry';

export type ShutdownState = 'clean' | 'open';

export interface Header {
  version: number;
  seq: number;
  shutdown: ShutdownState;
  geometry: Geometry;
  uuid: string;
  generation: number;
  createdAt: number;
  lastPid: number;
}

export type SlotVerdict =
  | { kind: 'valid'; header: Header }
  | { kind: 'no-magic' }
  | { kind: 'newer-version'; version: number }
  | { kind: 'bad-checksum' };

const magicBytes = Buffer.from(MAGIC, 'latin1');

function get64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
}

function set64(v: DataView, off: number, value: number): void {
  v.setUint32(off, value % 2 ** 32, true);
  v.setUint32(off + 4, Math.floor(value / 2 ** 32), true);
}

export function headerChecksum(bytes: Uint8Array): number {
  return native.crc32c(bytes, 0, H.crc, 0);
}

/** The 256 checksummed bytes of a header. */
export function encodeHeader(h: Header): Uint8Array {
  const bytes = new Uint8Array(HEADER_CHECKED_BYTES);
  const v = new DataView(bytes.buffer);
  bytes.set(magicBytes, H.magic);
  v.setUint32(H.version, h.version, true);
  v.setUint32(H.checkedBytes, HEADER_CHECKED_BYTES, true);
  v.setUint32(H.seq, h.seq >>> 0, true);
  v.setUint32(H.shutdown, h.shutdown === 'clean' ? SHUTDOWN_CLEAN : SHUTDOWN_OPEN, true);
  const g = h.geometry;
  set64(v, H.regionBytes, g.regionBytes);
  v.setUint32(H.blockBytes, g.blockBytes, true);
  v.setUint32(H.bufferCount, g.bufferCount, true);
  v.setUint32(H.fileSlots, g.fileSlots, true);
  v.setUint32(H.pathBytesMax, 480, true);
  set64(v, H.registryOffset, g.registryOffset);
  set64(v, H.sizeTableOffset, g.sizeTableOffset);
  set64(v, H.fileTable0Offset, g.fileTableOffsets[0]);
  set64(v, H.fileTable1Offset, g.fileTableOffsets[1]);
  set64(v, H.fileTableBytes, g.fileTableBytes);
  set64(v, H.undoOffset, g.undoOffset);
  set64(v, H.undoBytes, g.undoBytes);
  set64(v, H.segmentAreaOffset, g.segmentAreaOffset);
  set64(v, H.segmentAreaBytes, g.segmentAreaBytes);
  set64(v, H.dataOffset, g.dataOffset);
  set64(v, H.dataViewBytes, g.dataViewBytes);
  bytes.set(Buffer.from(h.uuid.replace(/-/g, ''), 'hex'), H.uuid);
  set64(v, H.generation, h.generation);
  set64(v, H.createdAt, h.createdAt);
  v.setUint32(H.lastPid, h.lastPid, true);
  v.setUint32(H.crc, headerChecksum(bytes), true);
  return bytes;
}

export function decodeSlot(bytes: Uint8Array): SlotVerdict {
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_CHECKED_BYTES);
  if (!magicBytes.equals(Buffer.from(bytes.buffer, bytes.byteOffset, magicBytes.length))) return { kind: 'no-magic' };
  const version = v.getUint32(H.version, true);
  if (version > FORMAT_VERSION) return { kind: 'newer-version', version };
  if (version !== FORMAT_VERSION || v.getUint32(H.checkedBytes, true) !== HEADER_CHECKED_BYTES) {
    return { kind: 'bad-checksum' };
  }
  if (headerChecksum(bytes.subarray(0, HEADER_CHECKED_BYTES)) !== v.getUint32(H.crc, true)) {
    return { kind: 'bad-checksum' };
  }
  const shutdown = v.getUint32(H.shutdown, true);
  if (shutdown !== SHUTDOWN_CLEAN && shutdown !== SHUTDOWN_OPEN) return { kind: 'bad-checksum' };
  const uuidHex = Buffer.from(bytes.buffer, bytes.byteOffset + H.uuid, 16).toString('hex');
  return {
    kind: 'valid',
    header: {
      version,
      seq: v.getUint32(H.seq, true),
      shutdown: shutdown === SHUTDOWN_CLEAN ? 'clean' : 'open',
      geometry: {
        regionBytes: get64(v, H.regionBytes),
        blockBytes: v.getUint32(H.blockBytes, true),
        bufferCount: v.getUint32(H.bufferCount, true),
        fileSlots: v.getUint32(H.fileSlots, true),
        registryOffset: get64(v, H.registryOffset),
        sizeTableOffset: get64(v, H.sizeTableOffset),
        fileTableOffsets: [get64(v, H.fileTable0Offset), get64(v, H.fileTable1Offset)],
        fileTableBytes: get64(v, H.fileTableBytes),
        undoOffset: get64(v, H.undoOffset),
        undoBytes: get64(v, H.undoBytes),
        segmentAreaOffset: get64(v, H.segmentAreaOffset),
        segmentAreaBytes: get64(v, H.segmentAreaBytes),
        dataOffset: get64(v, H.dataOffset),
        dataViewBytes: get64(v, H.dataViewBytes),
      },
      uuid: [uuidHex.slice(0, 8), uuidHex.slice(8, 12), uuidHex.slice(12, 16), uuidHex.slice(16, 20), uuidHex.slice(20)].join('-'),
      generation: get64(v, H.generation),
      createdAt: get64(v, H.createdAt),
      lastPid: v.getUint32(H.lastPid, true),
    },
  };
}

export interface HeaderChoice {
  header: Header;
  /** Index of the slot that holds it; the other slot is the one to write next. */
  slot: 0 | 1;
  /** What the other slot held (for reports: a torn or damaged copy is worth saying). */
  other: SlotVerdict['kind'];
}

/**
 * Picks the current header from the first 8 KiB of a region file, or throws the
 * error code that says what is wrong (docs/format.md §2, "Validation").
 */
export function chooseHeader(first8k: Uint8Array, path: string): HeaderChoice {
  const verdicts = HEADER_SLOT_OFFSETS.map((off) => decodeSlot(first8k.subarray(off, off + HEADER_SLOT_BYTES)));
  const valid = verdicts
    .map((v, slot) => ({ v, slot: slot as 0 | 1 }))
    .filter((x): x is { v: { kind: 'valid'; header: Header }; slot: 0 | 1 } => x.v.kind === 'valid');
  const newer = verdicts.find((v) => v.kind === 'newer-version') as { version: number } | undefined;
  if (newer && valid.length === 0) {
    throw regionError(
      'REGION_VERSION_UNSUPPORTED',
      `${path} has region format version ${newer.version}; this riocache reads version ${FORMAT_VERSION}. ` +
        'Upgrade riocache, or recover the region with the version that wrote it.',
    );
  }
  if (verdicts.every((v) => v.kind === 'no-magic')) {
    throw regionError(
      'REGION_BAD_MAGIC',
      `${path} is not a riocache region (no "${MAGIC}" magic in either header slot). ` +
        'Check the path; riocache will not overwrite a file it did not create.',
    );
  }
  if (valid.length === 0) {
    throw regionError(
      'REGION_HEADER_CORRUPT',
      `both header slots of ${path} fail their checksum. The region was damaged; its data ` +
        'cannot be trusted. Move the file aside and inspect it with `riocache inspect`.',
    );
  }
  // Sequence numbers are 32-bit: the newer one is ahead by less than 2^31.
  valid.sort((a, b) => (((b.v.header.seq - a.v.header.seq) | 0) > 0 ? 1 : -1));
  const best = valid[0];
  return { header: best.v.header, slot: best.slot, other: verdicts[1 - best.slot].kind };
}
